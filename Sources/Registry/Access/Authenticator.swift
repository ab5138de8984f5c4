/// Turns a presented credential into a `Principal`: personal access tokens and deploy tokens,
/// looked up by their digest, refused when unknown, expired or revoked.
public struct Authenticator: Sendable {
    let store: MetadataStore
    /// Successful token lookups, for `CacheLifetimes.tokens` (or, while the database cannot be
    /// reached, as they were when last seen).
    private let tokens = ExpiringCache<String, Principal>(lifetime: CacheLifetimes.tokens)

    init(store: MetadataStore, freshness: Freshness) {
        self.store = store
        let tokens = self.tokens
        freshness.onChange { change in
            if change == .access { tokens.expireAll() }
        }
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
        let digest = TokenSecrets.digest(of: secret)
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

    /// A token expiring on a day is refused from the start of that day (UTC), as in GitLab.
    static func isUsable(revoked: Bool, expiresAt: Day?, today: Day) -> Bool {
        !revoked && (expiresAt.map { today < $0 } ?? true)
    }
}
