/// A user's own personal access tokens, as the web interface's token page manages them (GitLab's
/// `/-/user_settings/personal_access_tokens`): anyone signed in, for themselves only.
extension ManagementService {
    public func createOwnPersonalAccessToken(
        _ principal: Principal,
        name: String,
        scopes: Set<TokenScope>,
        expiresAt: Day?,
        today: Day = Timestamp.now().day,
        author: AuditAuthor
    ) async throws -> IssuedToken<PersonalAccessToken> {
        try await self.write {
            let user = try self.writer(principal)
            if let expiresAt, expiresAt <= today { throw RegistryError.invalid("The expiry date must be in the future") }
            return try await self.admin.acting(as: author).createPersonalAccessToken(
                username: user.username,
                name: name,
                scopes: scopes,
                expiresAt: expiresAt
            )
        }
    }

    /// The caller's own tokens that still work: not revoked, not expired.
    public func ownActivePersonalAccessTokens(_ principal: Principal, today: Day = Timestamp.now().day) async throws -> [PersonalAccessToken] {
        let (user, _) = try self.caller(principal)
        let all = try await self.store.personalAccessTokens(userID: user.id, page: PageRequest(page: 1, perPage: 10_000))
        return all.items.filter { Authenticator.isUsable(revoked: $0.revoked, expiresAt: $0.expiresAt, today: today) }
    }

    /// Revokes one of the caller's own tokens (an administrator's page also only shows their own).
    public func revokeOwnPersonalAccessToken(_ principal: Principal, id: Int64, author: AuditAuthor) async throws {
        try await self.write {
            let user = try self.writer(principal)
            guard let token = try await self.store.personalAccessToken(id: id), token.userID == user.id else {
                throw RegistryError.notFound("404 Not Found")
            }
            try await self.revoke(token, author: author)
        }
    }
}
