import NIOPosix

/// Who a login and password belong to, for web sign-in. It answers only "this user" or "no one":
/// an unknown login, a user with no password and a wrong password look the same, and take the same
/// scrypt work (an unknown login is checked against a dummy hash), so neither the answer nor its
/// timing tells which logins exist. The work runs on a thread pool, never on an event loop.
public struct PasswordVerifier: Sendable {
    let store: MetadataStore
    let threadPool: NIOThreadPool

    /// A well-formed stored hash at the standard cost that no password matches (its key is random
    /// bytes, not derived from anything), for logins with nothing to check against.
    static let dummyHash = "$scrypt$ln=15,r=8,p=1$OC8lHeSYJ4WUTDfFsmx11g$92SuMke3aBhAL/jXHETW6dCAKqvWK/nKWHS9FLIYWFE"

    public init(store: MetadataStore, threadPool: NIOThreadPool = .singleton) {
        self.store = store
        self.threadPool = threadPool
    }

    /// The user named `login` (case-insensitively) when `password` is theirs; nil otherwise.
    public func user(login: String, password: String) async throws -> User? {
        // Longer than any password the rules let anyone set: it matches no one, whoever `login` is,
        // so saying so at once tells nothing and spares hashing a large input.
        guard password.utf8.count <= PasswordRules.maximumBytes else { return nil }
        let found = try await self.store.userAndPasswordHash(login: login)
        let stored = found?.passwordHash ?? Self.dummyHash
        let matches = try await self.threadPool.runIfActive { PasswordHasher.verify(password, against: stored) }
        guard let found, found.passwordHash != nil, matches else { return nil }
        return found.user
    }
}
