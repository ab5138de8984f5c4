/// Groups and projects through the REST API.
extension ManagementService {
    /// A group the caller may see, by id or full path.
    public func group(_ principal: Principal, _ reference: String) async throws -> Namespace {
        try await self.access.visibleGroup(reference, for: principal)
    }

    /// A group on which the caller holds at least `level` with a writing token.
    func group(_ principal: Principal, _ reference: String, atLeast level: AccessLevel) async throws -> Namespace {
        let group = try await self.group(principal, reference)
        let user = try self.writer(principal)
        guard let held = try await self.control.accessLevel(of: user, on: group), held >= level else {
            throw RegistryError.forbidden("403 Forbidden")
        }
        return group
    }

    public func groups(_ principal: Principal, page: PageRequest) async throws -> Page<Namespace> {
        try await self.store.groups(page: page) { try await self.access.canSee($0, principal) }
    }

    public func subgroups(_ principal: Principal, of reference: String) async throws -> [Namespace] {
        let group = try await self.group(principal, reference)
        var visible: [Namespace] = []
        for subgroup in try await self.store.subgroups(of: group.id) where try await self.access.canSee(subgroup, principal) {
            visible.append(subgroup)
        }
        return visible
    }

    /// Creates a group (a subgroup when `parentID` is given: maintainers of the parent may); the
    /// creator becomes its owner, as in GitLab.
    public func createGroup(
        _ principal: Principal,
        path: String,
        name: String,
        parentID: Int64?,
        visibility: Visibility,
        description: String?,
        author: AuditAuthor
    ) async throws -> Namespace {
        try await self.write {
            let user = try self.writer(principal)
            var fullPath = path
            if let parentID {
                let parent = try await self.group(principal, String(parentID), atLeast: .maintainer)
                fullPath = parent.fullPath + "/" + path
            }
            try Self.validateName(name)
            return try await self.admin.acting(as: author).createGroup(
                fullPath: fullPath,
                visibility: visibility,
                name: name,
                description: description ?? "",
                owner: user
            )
        }
    }

    public func updateGroup(
        _ principal: Principal,
        _ reference: String,
        name: String?,
        visibility: Visibility?,
        description: String?,
        forwarding: ForwardingOverride? = nil,
        author: AuditAuthor
    ) async throws -> Namespace {
        try await self.write {
            let group = try await self.group(principal, reference, atLeast: .owner)
            if let visibility, let parentID = group.parentID, let parent = try await self.store.namespace(id: parentID) {
                try AdminService.checkVisibility(visibility, within: parent)
            }
            if let name { try Self.validateName(name) }
            return try await self.store.updateGroup(group.id, name: name, visibility: visibility, description: description, forwarding: forwarding) {
                AuditEntry.groupUpdated(before: $0.before, after: $0.after, by: author)
            }
        }
    }

    public func deleteGroup(_ principal: Principal, _ reference: String, author: AuditAuthor) async throws {
        try await self.write {
            let group = try await self.group(principal, reference, atLeast: .owner)
            let digests = try await self.store.deleteGroup(group) { projects in
                [.deleted(.groupDeleted, on: AuditEntry.entity(of: group), projects: projects, by: author)]
            }
            try await self.maintenance.collectGarbage(digests)
        }
    }

    // MARK: Projects

    /// A project the caller may see, by id or full path.
    public func project(_ principal: Principal, _ reference: String) async throws -> Project {
        try await self.access.visibleProject(reference, for: principal)
    }

    func project(_ principal: Principal, _ reference: String, atLeast level: AccessLevel) async throws -> Project {
        let project = try await self.project(principal, reference)
        let user = try self.writer(principal)
        guard let held = try await self.control.accessLevel(of: user, on: project), held >= level else {
            throw RegistryError.forbidden("403 Forbidden")
        }
        return project
    }

    public func projects(_ principal: Principal, in group: String?) async throws -> [Project] {
        let candidates: [Project]
        if let group {
            candidates = try await self.store.projects(inTreeOf: try await self.group(principal, group))
        } else {
            candidates = try await self.store.allProjects()
        }
        var visible: [Project] = []
        for project in candidates where try await self.access.canSee(project, principal) {
            visible.append(project)
        }
        return visible
    }

    /// Creates a project in a group (developers may, as GitLab allows by default) or in the caller's
    /// personal namespace when `namespaceID` is nil.
    public func createProject(
        _ principal: Principal,
        path: String?,
        name: String?,
        namespaceID: Int64?,
        visibility: Visibility,
        description: String?,
        author: AuditAuthor
    ) async throws -> Project {
        try await self.write {
            let user = try self.writer(principal)
            guard let path = path ?? name.map(Self.pathFromName), !path.isEmpty else {
                throw RegistryError.invalid("name or path is missing")
            }
            let namespace: Namespace
            if let namespaceID {
                guard let found = try await self.store.namespace(id: namespaceID) else { throw RegistryError.notFound("404 Namespace Not Found") }
                namespace = found
            } else {
                guard let personal = try await self.store.namespace(fullPath: user.username) else {
                    throw RegistryError.notFound("404 Namespace Not Found")
                }
                namespace = personal
            }
            let level = try await self.control.accessLevel(of: user, on: namespace)
            guard let level, level >= (namespace.kind == .group ? .developer : .owner) else {
                throw (try await self.access.canSee(namespace, principal))
                    ? RegistryError.forbidden("403 Forbidden") : RegistryError.notFound("404 Namespace Not Found")
            }
            if let name { try Self.validateName(name) }
            return try await self.admin.acting(as: author).createProject(
                fullPath: namespace.fullPath + "/" + path,
                visibility: visibility,
                name: name,
                description: description ?? ""
            )
        }
    }

    public func updateProject(
        _ principal: Principal,
        _ reference: String,
        name: String?,
        visibility: Visibility?,
        description: String?,
        author: AuditAuthor
    ) async throws -> Project {
        try await self.write {
            let project = try await self.project(principal, reference, atLeast: .maintainer)
            if let visibility, let namespace = try await self.store.namespace(id: project.namespaceID), namespace.kind == .group {
                try AdminService.checkVisibility(visibility, within: namespace)
            }
            if let name { try Self.validateName(name) }
            return try await self.store.updateProject(project.id, name: name, visibility: visibility, description: description) {
                AuditEntry.projectUpdated(before: $0.before, after: $0.after, by: author)
            }
        }
    }

    public func deleteProject(_ principal: Principal, _ reference: String, author: AuditAuthor) async throws {
        try await self.write {
            let project = try await self.project(principal, reference, atLeast: .owner)
            let entry = AuditEntry.deleted(.projectDeleted, on: AuditEntry.entity(of: project), projects: 1, by: author)
            try await self.maintenance.collectGarbage(try await self.store.deleteProject(project, audit: [entry]))
        }
    }

    public func namespace(of project: Project) async throws -> Namespace? {
        try await self.admin.namespace(of: project)
    }

    /// GitLab's `full_name`: the names of the namespace and those above it, `Top / Sub`.
    public func fullName(of namespace: Namespace) async throws -> String {
        try await self.store.namespaceChain(from: namespace.id).reversed().map(\.name).joined(separator: " / ")
    }

    static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 255, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw RegistryError.invalid("name must be 1 to 255 printable characters")
        }
    }

    /// GitLab derives a path from a name: spaces become dashes.
    static func pathFromName(_ name: String) -> String {
        name.split(separator: " ").joined(separator: "-")
    }
}
