/// What a caller wants to do with a project's packages.
public enum PackageAction: Sendable {
    case read
    case upload
    case manage
}

/// Who may see and do what, for the PyPI API and the REST API alike: finds the project or group a
/// reference names and decides on it with `AccessControl`'s facts and `PackagePolicy`'s rules.
///
/// What is hidden is hidden the same way everywhere (`hidden(from:_:)`): anonymous callers get
/// `unauthenticated` for anything not public, whether or not it exists, so that clients send
/// credentials and nothing leaks; signed-in callers get `notFound` for what they cannot see and
/// `forbidden` for what they see but may not do.
public struct AccessDecisions: Sendable {
    let store: MetadataStore
    let control: AccessControl
    /// Read-path decisions, for `CacheLifetimes.accessDecisions`: a removed member or a narrowed
    /// visibility takes effect within it.
    private let projectDecisions = ExpiringCache<String, (Project, ProjectPermissions)>(lifetime: CacheLifetimes.accessDecisions)
    private let groupDecisions = ExpiringCache<String, (Namespace, [Project], Bool)>(lifetime: CacheLifetimes.accessDecisions)
    /// Every project whose packages a caller may read (the web pages' home and search).
    private let readableDecisions = ExpiringCache<String, [Project]>(lifetime: CacheLifetimes.accessDecisions)

    init(store: MetadataStore, control: AccessControl, freshness: Freshness) {
        self.store = store
        self.control = control
        let (projects, groups, readable) = (self.projectDecisions, self.groupDecisions, self.readableDecisions)
        freshness.onChange { change in
            guard change == .access else { return }
            projects.expireAll()
            groups.expireAll()
            readable.expireAll()
        }
    }

    /// How something the caller may not see is refused.
    static func hidden(from principal: Principal, _ message: String) -> RegistryError {
        principal.isAnonymous ? .unauthenticated : .notFound(message)
    }

    // MARK: Packages (the PyPI API, and the REST API's package routes)

    /// The project named by a numeric id or a full path, if the caller may `action` it. Reads may
    /// use a decision up to `CacheLifetimes.accessDecisions` old (or the last one, while the
    /// database is away); uploads and management decide afresh.
    public func authorizedProject(_ reference: String, for principal: Principal, action: PackageAction) async throws -> Project {
        let key = principal.cacheKey + "|" + reference
        let decide = { try await self.decision(on: reference, for: principal) }
        let decision = action == .read ? try await self.projectDecisions.value(for: key, orCompute: decide) : try await decide()
        if action != .read { self.projectDecisions.set(decision, for: key) }
        let (project, permissions) = decision
        guard permissions.canSee else { throw Self.hidden(from: principal, "404 Project Not Found") }
        let allowed =
            switch action {
            case .read: permissions.canReadPackages
            case .upload: permissions.canUploadPackages
            case .manage: permissions.canManagePackages
            }
        guard allowed else { throw principal.isAnonymous ? RegistryError.unauthenticated : RegistryError.forbidden("403 Forbidden") }
        return project
    }

    /// The group named by a numeric id or a full path, and the projects below it whose packages the caller may read.
    public func authorizedGroup(_ reference: String, for principal: Principal) async throws -> (Namespace, [Project]) {
        let (group, projects, canSee) = try await self.groupDecisions.value(for: principal.cacheKey + "|" + reference) {
            guard let group = try await self.store.group(reference: reference) else { throw Self.hidden(from: principal, "404 Group Not Found") }
            let (canSee, projects) = try await self.control.readableProjects(of: principal, in: group)
            return (group, projects, canSee)
        }
        guard canSee else { throw Self.hidden(from: principal, "404 Group Not Found") }
        if principal.isAnonymous && projects.isEmpty && group.visibility != .public { throw RegistryError.unauthenticated }
        return (group, projects)
    }

    private func decision(on reference: String, for principal: Principal) async throws -> (Project, ProjectPermissions) {
        guard let project = try await self.store.project(reference: reference) else {
            throw Self.hidden(from: principal, "404 Project Not Found")
        }
        return (project, try await self.control.permissions(of: principal, on: project))
    }

    // MARK: Web pages

    /// The project and what the caller may do with it, for a page; nil when it does not exist or
    /// the caller may not see it (the page is then a 404, whichever it was). Decided like reads.
    public func pageDecision(onProject reference: String, for principal: Principal) async throws -> (Project, ProjectPermissions)? {
        let key = principal.cacheKey + "|" + reference
        do {
            let decision = try await self.projectDecisions.value(for: key) { try await self.decision(on: reference, for: principal) }
            return decision.1.canSee ? decision : nil
        } catch RegistryError.unauthenticated, RegistryError.notFound {
            return nil
        }
    }

    /// The group and the projects below it the caller may read, for a page; nil when it does not
    /// exist or the caller may not see it.
    public func pageDecision(onGroup reference: String, for principal: Principal) async throws -> (Namespace, [Project])? {
        do { return try await self.authorizedGroup(reference, for: principal) } catch RegistryError.unauthenticated, RegistryError.notFound {
            return nil
        }
    }

    /// Every project whose packages the caller may read.
    public func readableProjects(for principal: Principal) async throws -> [Project] {
        try await self.readableDecisions.value(for: principal.cacheKey) {
            var readable: [Project] = []
            for project in try await self.store.allProjects() where try await self.control.permissions(of: principal, on: project).canReadPackages {
                readable.append(project)
            }
            return readable
        }
    }

    // MARK: Seeing (the REST API, decided afresh)

    /// A project the caller may see, by id or full path.
    public func visibleProject(_ reference: String, for principal: Principal) async throws -> Project {
        let (project, permissions) = try await self.decision(on: reference, for: principal)
        guard permissions.canSee else { throw Self.hidden(from: principal, "404 Project Not Found") }
        return project
    }

    /// A group the caller may see, by id or full path.
    public func visibleGroup(_ reference: String, for principal: Principal) async throws -> Namespace {
        guard let group = try await self.store.group(reference: reference), try await self.canSee(group, principal) else {
            throw Self.hidden(from: principal, "404 Group Not Found")
        }
        return group
    }

    /// Whether the caller may see the group at all.
    public func canSee(_ group: Namespace, _ principal: Principal) async throws -> Bool {
        if case .user(let user, _) = principal, try await self.control.accessLevel(of: user, on: group) != nil { return true }
        return try await self.control.readableProjects(of: principal, in: group).canSee
    }

    public func canSee(_ project: Project, _ principal: Principal) async throws -> Bool {
        try await self.control.permissions(of: principal, on: project).canSee
    }
}
