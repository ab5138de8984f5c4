import PythonPackaging

/// The REST API's operations on users, tokens, groups, projects, members, deploy tokens and
/// packages, each with GitLab's permission check (`AccessDecisions`) in front of the same
/// `AdminService` rules the CLI uses. Every write reports `.access` to `Freshness` when it ends,
/// succeeded or not: who may do what may have changed, and this server applies it at once. Every
/// write takes its `AuditAuthor` (the principal and the client's address) and records its event in
/// the transaction of the change.
public struct ManagementService: Sendable {
    let store: MetadataStore
    let admin: AdminService
    let control: AccessControl
    let access: AccessDecisions
    let maintenance: PackageMaintenance
    let freshness: Freshness

    /// The audit events, read with the same permission checks.
    public var audit: AuditLog { AuditLog(store: self.store, control: self.control, access: self.access) }

    /// Runs one of the REST API's writes.
    func write<T>(_ body: () async throws -> T) async throws -> T {
        try await self.freshness.afterWrite(.access, body)
    }

    // MARK: Who is calling

    /// The signed-in user; deploy tokens and anonymous callers are not users of the REST API.
    public func caller(_ principal: Principal) throws -> (User, Set<TokenScope>) {
        guard case .user(let user, let scopes) = principal else { throw RegistryError.unauthenticated }
        return (user, scopes)
    }

    /// The signed-in user, with a token that may write (`api`).
    func writer(_ principal: Principal) throws -> User {
        let (user, scopes) = try self.caller(principal)
        guard scopes.contains(.api) else { throw RegistryError.forbidden("403 Forbidden - insufficient_scope") }
        return user
    }

    func administrator(_ principal: Principal) throws -> User {
        let user = try self.writer(principal)
        guard user.isAdmin else { throw RegistryError.forbidden("403 Forbidden") }
        return user
    }

    // MARK: Users

    public func users(_ principal: Principal, username: String?, page: PageRequest) async throws -> Page<User> {
        _ = try self.caller(principal)
        return try await self.store.users(username: username, page: page)
    }

    public func user(_ principal: Principal, id: Int64) async throws -> User {
        _ = try self.caller(principal)
        guard let user = try await self.store.user(id: id) else { throw RegistryError.notFound("404 User Not Found") }
        return user
    }

    public func createUser(
        _ principal: Principal,
        username: String,
        isAdmin: Bool,
        password: String? = nil,
        author: AuditAuthor
    ) async throws -> User {
        try await self.write {
            _ = try self.administrator(principal)
            return try await self.admin.acting(as: author).createUser(username: username, isAdmin: isAdmin, password: password)
        }
    }

    public func deleteUser(_ principal: Principal, id: Int64, author: AuditAuthor) async throws {
        try await self.write {
            let caller = try self.administrator(principal)
            let user = try await self.user(principal, id: id)
            guard user.id != caller.id else { throw RegistryError.invalid("You cannot delete yourself") }
            let digests = try await self.store.deleteUser(user) { projects in
                [.deleted(.userDeleted, on: AuditEntry.entity(of: user), projects: projects, by: author)]
            }
            try await self.maintenance.collectGarbage(digests)
        }
    }

    // MARK: Personal access tokens

    public func createPersonalAccessToken(
        _ principal: Principal,
        userID: Int64,
        name: String,
        scopes: Set<TokenScope>,
        expiresAt: Day?,
        author: AuditAuthor
    ) async throws -> IssuedToken<PersonalAccessToken> {
        try await self.write {
            _ = try self.administrator(principal)
            let user = try await self.user(principal, id: userID)
            return try await self.admin.acting(as: author).createPersonalAccessToken(
                username: user.username,
                name: name,
                scopes: scopes,
                expiresAt: expiresAt
            )
        }
    }

    /// The caller's own tokens; an administrator sees everyone's (or one user's).
    public func personalAccessTokens(_ principal: Principal, userID: Int64?, page: PageRequest) async throws -> Page<PersonalAccessToken> {
        let (user, _) = try self.caller(principal)
        let owner = user.isAdmin ? userID : user.id
        if !user.isAdmin, let userID, userID != user.id { return Page(items: [], total: 0) }
        return try await self.store.personalAccessTokens(userID: owner, page: page)
    }

    /// A token by id, or `nil` for the one the caller is using.
    public func personalAccessToken(_ principal: Principal, id: Int64?, presented: Credential?) async throws -> PersonalAccessToken {
        let (user, _) = try self.caller(principal)
        let token: PersonalAccessToken?
        if let id {
            token = try await self.store.personalAccessToken(id: id)
        } else {
            token = try await self.presentedToken(presented)
        }
        guard let token, token.userID == user.id || user.isAdmin else { throw RegistryError.notFound("404 Not Found") }
        return token
    }

    public func revokePersonalAccessToken(_ principal: Principal, id: Int64?, presented: Credential?, author: AuditAuthor) async throws {
        try await self.write {
            let token = try await self.personalAccessToken(principal, id: id, presented: presented)
            if id != nil { _ = try self.writer(principal) }
            try await self.revoke(token, author: author)
        }
    }

    /// Revokes `token` with its event, which names the token's owner.
    func revoke(_ token: PersonalAccessToken, author: AuditAuthor) async throws {
        let owner = try await self.owner(of: token)
        let entry = AuditEntry.personalAccessToken(.personalAccessTokenRevoked, token, of: owner, by: author)
        try await self.store.revokePersonalAccessToken(id: token.id, audit: [entry])
    }

    private func owner(of token: PersonalAccessToken) async throws -> User {
        guard let owner = try await self.store.user(id: token.userID) else { throw RegistryError.notFound("404 Not Found") }
        return owner
    }

    /// Revokes the token and issues a new one with the same name and scopes (GitLab: a week's expiry
    /// when none is given; we keep the old expiry or none).
    public func rotatePersonalAccessToken(
        _ principal: Principal,
        id: Int64?,
        presented: Credential?,
        expiresAt: Day?,
        author: AuditAuthor
    ) async throws -> IssuedToken<PersonalAccessToken> {
        try await self.write {
            let token = try await self.personalAccessToken(principal, id: id, presented: presented)
            if id != nil { _ = try self.writer(principal) }
            guard !token.revoked else { throw RegistryError.invalid("The token has been revoked") }
            let (secret, digest) = TokenSecrets.mint(.personal)
            let owner = try await self.owner(of: token)
            let rotated = try await self.store.rotatePersonalAccessToken(token, newDigest: digest, expiresAt: expiresAt ?? token.expiresAt) {
                [.personalAccessToken(.personalAccessTokenRotated, $0, of: owner, by: author, extra: ["rotated_from_id": String(token.id)])]
            }
            return IssuedToken(token: rotated, secret: secret)
        }
    }

    private func presentedToken(_ credential: Credential?) async throws -> PersonalAccessToken? {
        guard case .anyToken(let secret) = credential else { return nil }
        return try await self.store.personalAccessToken(digest: TokenSecrets.digest(of: secret))?.0
    }
}
