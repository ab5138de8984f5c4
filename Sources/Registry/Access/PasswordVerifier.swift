import NIOConcurrencyHelpers
import NIOPosix

/// Who a login and password belong to, for web sign-in. It answers only "this user" or "no one":
/// an unknown login, a user with no password and a wrong password look the same, and take the same
/// scrypt work (an unknown login is checked against a dummy hash), so neither the answer nor its
/// timing tells which logins exist.
///
/// scrypt is made to be expensive (32 MiB and about a tenth of a second each), so it runs on a
/// thread of its own, never on an event loop nor on the pool that SQLite and file reads share (a
/// burst of sign-ins there would starve every other request), and only a few checks may wait for
/// it at once: past `maxWaiting`, `user(login:password:)` throws `Busy` at once.
public struct PasswordVerifier: Sendable {
    /// Too many sign-ins are being checked right now; try again in a moment.
    public struct Busy: Error {}

    let store: MetadataStore
    public static let maxWaiting = 8
    private let waiting = NIOLockedValueBox(0)

    /// One thread for every verifier of the process: one core's worth of hashing at most.
    private static let hashing: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// A well-formed stored hash at the standard cost that no password matches (its key is random
    /// bytes, not derived from anything), for logins with nothing to check against.
    static let dummyHash = "$scrypt$ln=15,r=8,p=1$OC8lHeSYJ4WUTDfFsmx11g$92SuMke3aBhAL/jXHETW6dCAKqvWK/nKWHS9FLIYWFE"

    public init(store: MetadataStore) {
        self.store = store
    }

    /// The user named `login` (case-insensitively) when `password` is theirs; nil otherwise.
    public func user(login: String, password: String) async throws -> User? {
        // Longer than any password the rules let anyone set: it matches no one, whoever `login` is,
        // so saying so at once tells nothing and spares hashing a large input.
        guard password.utf8.count <= PasswordRules.maximumBytes else { return nil }
        let admitted = self.waiting.withLockedValue { count in
            guard count < Self.maxWaiting else { return false }
            count += 1
            return true
        }
        guard admitted else { throw Busy() }
        defer { self.waiting.withLockedValue { $0 -= 1 } }
        let found = try await self.store.userAndPasswordHash(login: login)
        let stored = found?.passwordHash ?? Self.dummyHash
        let matches = try await Self.hashing.runIfActive { PasswordHasher.verify(password, against: stored) }
        guard let found, found.passwordHash != nil, matches else { return nil }
        return found.user
    }
}
