/// Gathers the facts `PackagePolicy` decides on: a caller's role on a project or group, and whether
/// their deploy token covers it.
public struct AccessControl: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    /// A user's effective role on a project: their highest membership on it or any group above it;
    /// owners of personal namespaces own their projects and administrators everything.
    public func accessLevel(of user: User, on project: Project) async throws -> AccessLevel? {
        if user.isAdmin { return .owner }
        let chain = try await self.store.namespaceChain(from: project.namespaceID)
        if chain.first?.kind == .user, chain.first?.ownerID == user.id { return .owner }
        return try await self.store.highestAccessLevel(of: user.id, project: project.id, namespaces: chain.map(\.id))
    }

    /// A user's effective role on a group: their highest membership on it or any group above it.
    public func accessLevel(of user: User, on group: Namespace) async throws -> AccessLevel? {
        if user.isAdmin { return .owner }
        if group.kind == .user { return group.ownerID == user.id ? .owner : nil }
        let chain = try await self.store.namespaceChain(from: group.id)
        return try await self.store.highestAccessLevel(of: user.id, project: nil, namespaces: chain.map(\.id))
    }

    public func permissions(of principal: Principal, on project: Project) async throws -> ProjectPermissions {
        let standing = try await self.standing(of: principal, within: project.namespaceID, project: project.id) { user in
            try await self.accessLevel(of: user, on: project)
        }
        return PackagePolicy.permissions(
            .init(
                principal: principal,
                visibility: project.visibility,
                accessLevel: standing.accessLevel,
                deployTokenCoversProject: standing.covered
            )
        )
    }

    /// Whether the caller may see the group at all, and the projects below it whose packages they may read.
    public func readableProjects(of principal: Principal, in group: Namespace) async throws -> (canSee: Bool, projects: [Project]) {
        var readable: [Project] = []
        for project in try await self.store.projects(inTreeOf: group) {
            if try await self.permissions(of: principal, on: project).canReadPackages {
                readable.append(project)
            }
        }
        let standing = try await self.standing(of: principal, within: group.id, project: nil) { user in
            let chain = try await self.store.namespaceChain(from: group.id)
            return try await self.store.highestAccessLevel(of: user.id, project: nil, namespaces: chain.map(\.id))
        }
        let canSee = PackagePolicy.canSeeGroup(
            .init(
                principal: principal,
                visibility: group.visibility,
                accessLevel: standing.accessLevel,
                deployTokenCoversGroup: standing.covered,
                readsSomeProject: !readable.isEmpty
            )
        )
        return (canSee, canSee ? readable : [])
    }

    /// A caller's standing within a namespace (and, for a project, on it): a user's role, as `role`
    /// finds it, or whether a deploy token belongs to the project or to a group at or above the namespace.
    private func standing(
        of principal: Principal,
        within namespaceID: NamespaceID,
        project projectID: ProjectID?,
        role: (User) async throws -> AccessLevel?
    ) async throws -> (accessLevel: AccessLevel?, covered: Bool) {
        switch principal {
        case .anonymous:
            return (nil, false)
        case .user(let user, _):
            return (try await role(user), false)
        case .deployToken(let token):
            switch token.source {
            case .project(let id):
                return (nil, id == projectID)
            case .namespace(let id):
                return (nil, try await self.store.namespaceChain(from: namespaceID).contains { $0.id == id })
            }
        }
    }
}
