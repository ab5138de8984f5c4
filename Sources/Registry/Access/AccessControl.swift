import Crypto
import PythonPackaging

/// Turns credentials into a `Principal` and gathers the facts `PackagePolicy` decides on.
public struct AccessControl: Sendable {
    let store: MetadataStore
    /// Successful token lookups, for 750 ms: with the 250 ms for which an answer may be replayed
    /// (RegistryServer's ReplayCache), a revoked token stops working within a second (or, while the
    /// database cannot be reached, keeps working as it did when it was last seen).
    private let tokens = ExpiringCache<String, Principal>(lifetime: .milliseconds(750))

    public init(store: MetadataStore) {
        self.store = store
    }

    /// Stored form of a token: its sha256. Tokens are 160-bit random secrets, so a fast hash is the
    /// right one (nothing to brute-force), and the database never holds a usable secret.
    static func digest(ofSecret secret: String) -> String {
        Hex.encode(SHA256.hash(data: Array(secret.utf8)))
    }

    /// The caller behind `credential`; unknown, expired and revoked tokens are refused. For a read
    /// (`forReading`), a token seen before may stand while the database cannot be reached; a
    /// write always needs the database's word.
    public func authenticate(_ credential: Credential?, forReading: Bool = false, today: Day = Timestamp.now().day) async throws -> Principal {
        guard let credential else { return .anonymous }
        let secret: String
        let personalAllowed: Bool
        switch credential {
        case .anyToken(let value): (secret, personalAllowed) = (value, true)
        case .deployToken(let value): (secret, personalAllowed) = (value, false)
        }
        guard !secret.isEmpty, secret.utf8.count <= 256 else { throw RegistryError.unauthenticated }
        let digest = Self.digest(ofSecret: secret)
        let cacheKey = (personalAllowed ? "p" : "d") + digest + today.iso8601
        return try await self.tokens.value(for: cacheKey, allowStale: forReading) {
            try await self.lookUp(digest: digest, personalAllowed: personalAllowed, today: today)
        }
    }

    private func lookUp(digest: String, personalAllowed: Bool, today: Day) async throws -> Principal {
        if personalAllowed, let (token, user) = try await self.store.personalAccessToken(digest: digest) {
            guard Self.isUsable(revoked: token.revoked, expiresAt: token.expiresAt, today: today) else {
                throw RegistryError.unauthenticated
            }
            return .user(user, scopes: token.scopes)
        }
        if let token = try await self.store.deployToken(digest: digest) {
            guard Self.isUsable(revoked: token.revoked, expiresAt: token.expiresAt, today: today) else {
                throw RegistryError.unauthenticated
            }
            return .deployToken(token)
        }
        throw RegistryError.unauthenticated
    }

    /// Forgets cached token lookups, after a change made here (revocation, deletion).
    public func forgetCachedTokens() {
        self.tokens.expireAll()
    }

    /// A token expiring on a day is refused from the start of that day (UTC), as in GitLab.
    static func isUsable(revoked: Bool, expiresAt: Day?, today: Day) -> Bool {
        !revoked && (expiresAt.map { today < $0 } ?? true)
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
        var accessLevel: AccessLevel?
        var covered = false
        switch principal {
        case .anonymous:
            break
        case .user(let user, _):
            accessLevel = try await self.accessLevel(of: user, on: project)
        case .deployToken(let token):
            switch token.source {
            case .project(let id):
                covered = id == project.id
            case .namespace(let id):
                covered = try await self.store.namespaceChain(from: project.namespaceID).contains { $0.id == id }
            }
        }
        return PackagePolicy.permissions(.init(
            principal: principal, visibility: project.visibility,
            accessLevel: accessLevel, deployTokenCoversProject: covered
        ))
    }

    /// Whether the caller may see the group at all, and the projects below it whose packages they may read.
    public func readableProjects(of principal: Principal, in group: Namespace) async throws -> (canSee: Bool, projects: [Project]) {
        var readable: [Project] = []
        for project in try await self.store.projects(inTreeOf: group) {
            if try await self.permissions(of: principal, on: project).canReadPackages {
                readable.append(project)
            }
        }
        var accessLevel: AccessLevel?
        var covered = false
        switch principal {
        case .anonymous:
            break
        case .user(let user, _):
            let chain = try await self.store.namespaceChain(from: group.id)
            accessLevel = try await self.store.highestAccessLevel(of: user.id, project: nil, namespaces: chain.map(\.id))
        case .deployToken(let token):
            if case .namespace(let id) = token.source {
                covered = try await self.store.namespaceChain(from: group.id).contains { $0.id == id }
            }
        }
        let canSee = PackagePolicy.canSeeGroup(.init(
            principal: principal, visibility: group.visibility, accessLevel: accessLevel,
            deployTokenCoversGroup: covered, readsSomeProject: !readable.isEmpty
        ))
        return (canSee, canSee ? readable : [])
    }
}
