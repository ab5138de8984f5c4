import NIOPosix
import PythonPackaging

/// Where a membership or a deploy token attaches, as an operator names it.
public enum MembershipTarget: Sendable, Equatable {
    case group(String)
    case project(String)
}

/// Creating users, tokens, groups, projects and members: the one place their rules live, for the
/// CLI and, through `ManagementService`, the REST API. Every change is recorded as an audit event by
/// `author`.
public struct AdminService: Sendable {
    let store: MetadataStore
    /// Where passwords are hashed: scrypt is too slow for an event loop.
    let threadPool: NIOThreadPool
    /// Who the changes are by: the operator at the command line, unless a request acts through
    /// this service (`acting(as:)`).
    public let author: AuditAuthor

    public init(store: MetadataStore, threadPool: NIOThreadPool = .singleton, author: AuditAuthor = .commandLine()) {
        self.store = store
        self.threadPool = threadPool
        self.author = author
    }

    /// The same service, its changes recorded as `author`'s.
    public func acting(as author: AuditAuthor) -> AdminService {
        AdminService(store: self.store, threadPool: self.threadPool, author: author)
    }

    /// `password`, when given, must pass `PasswordRules`; without one the user cannot sign in on the web.
    public func createUser(username: String, isAdmin: Bool, password: String? = nil) async throws -> User {
        try PathRules.validateSegment(username, what: "Username")
        try PathRules.checkNotReserved(username, what: "Username")
        var passwordHash: String?
        if let password { passwordHash = try await self.storedPassword(password) }
        let author = self.author
        return try await self.store.insertUser(username: username, isAdmin: isAdmin, passwordHash: passwordHash) { user in
            [.userCreated(user, withPassword: password != nil, by: author)]
        }
    }

    public func createPersonalAccessToken(
        username: String,
        name: String,
        scopes: Set<TokenScope>,
        expiresAt: Day?
    ) async throws -> IssuedToken<PersonalAccessToken> {
        guard let user = try await self.store.user(named: username) else {
            throw RegistryError.notFound("User '\(username)' not found")
        }
        try Self.validateTokenName(name)
        guard !scopes.isEmpty, scopes.isSubset(of: TokenScope.personal) else {
            throw RegistryError.invalid("Personal access token scopes must be api and/or read_api")
        }
        let (secret, digest) = TokenSecrets.mint(.personal)
        let author = self.author
        let token = try await self.store.insertPersonalAccessToken(
            userID: user.id,
            name: name,
            scopes: scopes,
            expiresAt: expiresAt,
            digest: digest
        ) { token in [.personalAccessToken(.personalAccessTokenCreated, token, of: user, by: author)] }
        return IssuedToken(token: token, secret: secret)
    }

    /// Creates a group; `fullPath` `a/b` makes `b` a subgroup of the existing group `a`. Its name is
    /// its path unless one is given; `owner`, when given, becomes its owner in the same transaction.
    public func createGroup(
        fullPath: String,
        visibility: Visibility,
        name: String? = nil,
        description: String = "",
        owner: User? = nil
    ) async throws -> Namespace {
        let (parentPath, path) = try PathRules.split(fullPath)
        try PathRules.validateSegment(path, what: "Group path")
        if parentPath == nil { try PathRules.checkNotReserved(path, what: "Group path") }
        var parent: Namespace?
        if let parentPath {
            guard let found = try await self.store.namespace(fullPath: parentPath), found.kind == .group else {
                throw RegistryError.notFound("Parent group '\(parentPath)' not found")
            }
            parent = found
            try Self.checkVisibility(visibility, within: found)
        }
        let author = self.author
        return try await self.store.insertGroup(
            parent: parent,
            path: path,
            name: name ?? path,
            visibility: visibility,
            description: description,
            owner: owner?.id
        ) { group in
            [.groupCreated(group, by: author)]
                + (owner.map { [.member(.memberAdded, $0, on: AuditEntry.entity(of: group), from: nil, to: .owner, by: author)] } ?? [])
        }
    }

    /// Creates a project in a group or in a user's personal namespace; its name is its path unless one is given.
    public func createProject(fullPath: String, visibility: Visibility, name: String? = nil, description: String = "") async throws -> Project {
        let (namespacePath, path) = try PathRules.split(fullPath)
        try PathRules.validateSegment(path, what: "Project path")
        guard let namespacePath else {
            throw RegistryError.invalid("A project path needs a namespace: NAMESPACE/PATH")
        }
        guard let namespace = try await self.store.namespace(fullPath: namespacePath) else {
            throw RegistryError.notFound("Namespace '\(namespacePath)' not found")
        }
        if namespace.kind == .group { try Self.checkVisibility(visibility, within: namespace) }
        let author = self.author
        return try await self.store.insertProject(
            namespace: namespace,
            path: path,
            name: name ?? path,
            visibility: visibility,
            description: description
        ) {
            [.projectCreated($0, by: author)]
        }
    }

    public func addMember(username: String, to target: MembershipTarget, accessLevel: AccessLevel) async throws -> Member {
        guard let user = try await self.store.user(named: username) else {
            throw RegistryError.notFound("User '\(username)' not found")
        }
        let source = try await self.resolve(target)
        try await self.addMember(user, to: source, accessLevel: accessLevel)
        return Member(user: user, accessLevel: accessLevel)
    }

    /// Adds `user` to `source` with their event.
    func addMember(_ user: User, to source: MembershipSource, accessLevel: AccessLevel) async throws {
        let entity = try await self.auditEntity(of: source)
        let entry = AuditEntry.member(.memberAdded, user, on: entity, from: nil, to: accessLevel, by: self.author)
        try await self.store.insertMember(source: source, userID: user.id, accessLevel: accessLevel, audit: [entry])
    }

    /// A deploy token; its username is `wheelhouse+deploy-token-<id>` unless one is given.
    public func createDeployToken(
        for target: MembershipTarget,
        name: String,
        username: String? = nil,
        scopes: Set<TokenScope>,
        expiresAt: Day?
    ) async throws -> IssuedToken<DeployToken> {
        let source = try await self.resolve(target)
        try Self.validateTokenName(name)
        if let username { try Self.validateTokenName(username) }
        guard !scopes.isEmpty, scopes.isSubset(of: TokenScope.deploy) else {
            throw RegistryError.invalid("Deploy token scopes must be read_package_registry and/or write_package_registry")
        }
        let (secret, digest) = TokenSecrets.mint(.deploy)
        let (author, entity) = (self.author, try await self.auditEntity(of: source))
        let token = try await self.store.insertDeployToken(
            source: source,
            name: name,
            username: username,
            scopes: scopes,
            expiresAt: expiresAt,
            digest: digest
        ) { token in [.deployToken(.deployTokenCreated, token, on: entity, by: author)] }
        return IssuedToken(token: token, secret: secret)
    }

    /// The group or project a target names, by numeric id or full path.
    func resolve(_ target: MembershipTarget) async throws -> MembershipSource {
        switch target {
        case .group(let reference):
            guard let group = try await self.store.group(reference: reference) else {
                throw RegistryError.notFound("Group '\(reference)' not found")
            }
            return .namespace(group.id)
        case .project(let reference):
            guard let project = try await self.store.project(reference: reference) else {
                throw RegistryError.notFound("Project '\(reference)' not found")
            }
            return .project(project.id)
        }
    }

    /// The group or project a membership or deploy token belongs to, as its events name it.
    func auditEntity(of source: MembershipSource) async throws -> AuditEntity {
        switch source {
        case .namespace(let id):
            guard let group = try await self.store.namespace(id: id) else { throw RegistryError.notFound("404 Group Not Found") }
            return AuditEntry.entity(of: group)
        case .project(let id):
            guard let project = try await self.store.project(id: id) else { throw RegistryError.notFound("404 Project Not Found") }
            return AuditEntry.entity(of: project)
        }
    }

    /// As in GitLab, nothing is more visible than the group that holds it.
    static func checkVisibility(_ visibility: Visibility, within group: Namespace) throws {
        guard visibility.openness <= group.visibility.openness else {
            throw RegistryError.invalid(
                "Visibility \(visibility.rawValue) is more open than the group '\(group.fullPath)' (\(group.visibility.rawValue))"
            )
        }
    }

    private static func validateTokenName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 255, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw RegistryError.invalid("Token name must be 1 to 255 printable characters")
        }
    }
}

/// GitLab-style paths: segments of ASCII letters, digits, `_`, `-`, `.`, starting and ending with a letter,
/// digit or `_`, joined by `/`.
enum PathRules {
    /// Top-level paths the server itself answers (the API, the web interface's own pages), which no
    /// user or top-level group may take: its page would never be reachable. GitLab refuses these too.
    static let reservedTopLevel: Set<String> = [
        "-", "api", "users", "groups", "projects", "help", "admin", "dashboard", "explore", "search", "uploads", "assets", "static",
    ]

    static func checkNotReserved(_ path: String, what: String) throws {
        guard !Self.reservedTopLevel.contains(path.lowercased()) else {
            throw RegistryError.invalid("\(what) '\(path)' is a reserved name")
        }
    }

    static func validateSegment(_ segment: String, what: String) throws {
        let bytes = Array(segment.utf8)
        func isEdge(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
        func isInner(_ byte: UInt8) -> Bool { isEdge(byte) || byte == 0x2D || byte == 0x2E }
        guard !bytes.isEmpty, bytes.count <= 255, isEdge(bytes.first!), isEdge(bytes.last!), bytes.allSatisfy(isInner),
            !segment.hasSuffix(".git"), !segment.hasSuffix(".atom")
        else {
            throw RegistryError.invalid(
                "\(what) '\(segment)' is invalid: use letters, digits, '_', '-' and '.', starting and ending with a letter, digit or '_'"
            )
        }
    }

    /// `a/b/c` -> (`a/b`, `c`); `c` -> (nil, `c`).
    static func split(_ fullPath: String) throws -> (parent: String?, last: String) {
        let segments = fullPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !segments.isEmpty, !segments.contains(where: \.isEmpty), segments.count <= 20 else {
            throw RegistryError.invalid("Path '\(fullPath)' is invalid")
        }
        for segment in segments.dropLast() { try validateSegment(segment, what: "Path segment") }
        return (segments.count > 1 ? segments.dropLast().joined(separator: "/") : nil, segments.last!)
    }
}

extension AdminService {
    /// The project named by a numeric id or a full path, for operators (no authorisation).
    public func existingProject(_ reference: String) async throws -> Project {
        guard let project = try await self.store.project(reference: reference) else {
            throw RegistryError.notFound("Project '\(reference)' not found")
        }
        return project
    }

    /// The namespace a project lives in.
    public func namespace(of project: Project) async throws -> Namespace? {
        try await self.store.namespace(id: project.namespaceID)
    }
}

/// Forwarding to the upstream index, for operators.
extension AdminService {
    /// Sets a group's forwarding override; returns the group as changed.
    public func setForwarding(ofGroup reference: String, to choice: ForwardingOverride) async throws -> Namespace {
        guard let group = try await self.store.group(reference: reference) else {
            throw RegistryError.notFound("Group '\(reference)' not found")
        }
        let author = self.author
        return try await self.store.updateGroup(group.id, name: nil, visibility: nil, forwarding: choice) {
            AuditEntry.groupUpdated(before: $0.before, after: $0.after, by: author)
        }
    }

    public func reservedNames(of projectReference: String) async throws -> [ReservedName] {
        try await self.store.reservedNames(in: try await self.existingProject(projectReference).id)
    }

    public func clearReservedName(_ name: String, in projectReference: String) async throws {
        let project = try await self.existingProject(projectReference)
        let normalized = ProjectName.normalize(name)
        let entry = AuditEntry.reservedNameCleared(normalized, in: project, by: self.author)
        guard try await self.store.clearReservedName(normalized, in: project.id, audit: [entry]) else {
            throw RegistryError.notFound("'\(ProjectName.normalize(name))' is not reserved in \(project.pathWithNamespace)")
        }
    }
}
