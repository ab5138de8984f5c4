import Crypto
import PythonPackaging

/// Browser sessions: a random id in a cookie, kept in the database as its sha256 (like tokens, so
/// a copy of the database signs nobody in), shared by every instance over that database. A session
/// ends when it is idle for `idleLifetime`, at `absoluteLifetime` after sign-in whatever its use,
/// or at sign-out.
public struct WebSessions: Sendable {
    let store: MetadataStore
    public static let idleLifetime: Int64 = 24 * 3600 * 1_000_000
    public static let absoluteLifetime: Int64 = 7 * 24 * 3600 * 1_000_000
    /// `last_seen_at` is written at most this often per session (a page view is not a write).
    static let touchInterval: Int64 = 60 * 1_000_000
    /// Lookups made a moment ago, so a page's burst of requests is one query.
    private let lookups = ExpiringCache<String, StoredWebSession?>(lifetime: CacheLifetimes.tokens)

    init(store: MetadataStore, freshness: Freshness) {
        self.store = store
        let lookups = self.lookups
        freshness.onChange { change in
            if change == .access { lookups.expireAll() }
        }
    }

    /// A session id: 32 random bytes, in hex (as token secrets are made).
    static func mintID() -> String { Hex.random(bytes: 32) }

    /// An anonymous visitor's form token (the sign-in form's double-submit cookie): 24 random bytes.
    public static func mintAnonymousFormToken() -> String { Hex.random(bytes: 24) }

    /// Whether a presented form token is the expected one, compared in constant time.
    public static func formTokensMatch(_ presented: String, _ expected: String) -> Bool {
        PasswordHasher.constantTimeEqual(Array(presented.utf8), Array(expected.utf8))
    }

    static func digest(of id: String) -> String { TokenSecrets.digest(of: id) }

    /// Starts a session for `user`, ending the one the browser had (a new id at every sign-in, so
    /// an id planted before it is worth nothing after). Returns the new id, for the cookie.
    public func start(for user: User, replacing oldID: String?, now: Timestamp = .now()) async throws -> String {
        let id = Self.mintID()
        if let oldID { self.lookups.remove(Self.digest(of: oldID)) }
        try await self.store.insertWebSession(
            idDigest: Self.digest(of: id),
            userID: user.id,
            replacing: oldID.map(Self.digest(of:)),
            at: now
        )
        return id
    }

    /// The user whose live session `id` is; nil for an unknown or expired one.
    public func user(forSession id: String, now: Timestamp = .now()) async throws -> User? {
        guard !id.isEmpty, id.utf8.count <= 64 else { return nil }
        let digest = Self.digest(of: id)
        let found = try await self.lookups.value(for: digest, allowStale: false) { try await self.store.webSession(idDigest: digest) }
        guard let session = found else { return nil }
        let now = now.microseconds
        guard now - session.lastSeenAt.microseconds < Self.idleLifetime, now - session.createdAt.microseconds < Self.absoluteLifetime else {
            return nil
        }
        if now - session.lastSeenAt.microseconds > Self.touchInterval {
            try await self.store.touchWebSession(idDigest: digest, at: Timestamp(microseconds: now))
            self.lookups.remove(digest)
        }
        return session.user
    }

    /// Ends the session (sign-out), and sweeps out every expired one.
    public func end(_ id: String, now: Timestamp = .now()) async throws {
        let digest = Self.digest(of: id)
        try await self.store.deleteWebSession(
            idDigest: digest,
            expiredBefore: Timestamp(microseconds: now.microseconds - Self.idleLifetime),
            createdBefore: Timestamp(microseconds: now.microseconds - Self.absoluteLifetime)
        )
        self.lookups.remove(digest)
    }

    /// The form token of a session: derived from its id (HMAC keyed by the id), so it needs no
    /// storage, differs per session, and cannot be made without the cookie.
    public static func formToken(forSession id: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("wheelhouse-csrf".utf8), using: SymmetricKey(data: Array(id.utf8)))
        return Hex.encode(mac)
    }
}
