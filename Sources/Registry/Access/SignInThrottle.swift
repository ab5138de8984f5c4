/// Slows down password guessing: sign-in attempts are counted per account (the login as typed,
/// lowercased, whether or not such a user exists, so the answer tells nothing) and per client
/// address, in the database so every instance counts the same. Each attempt is counted before its
/// password is checked, and decided on the count it got, so a burst of concurrent guesses is held
/// to the limit too. A sign-in that works clears its account's count and is not held against its
/// address. Past a limit within the window, sign-in is refused until the window ends, even with
/// the right password.
public struct SignInThrottle: Sendable {
    public struct Limit: Sendable {
        public var attempts: Int
        /// Microseconds.
        public var window: Int64
    }

    let store: MetadataStore
    public var perAccount = Limit(attempts: 10, window: 15 * 60 * 1_000_000)
    public var perAddress = Limit(attempts: 50, window: 15 * 60 * 1_000_000)

    init(store: MetadataStore) { self.store = store }

    static func accountKey(_ login: String) -> String { "login:" + String(login.lowercased().prefix(255)) }
    static func addressKey(_ address: String) -> String { "ip:" + String(address.prefix(64)) }

    private func keys(_ login: String, _ address: String?) -> [String] {
        [Self.accountKey(login)] + (address.map { [Self.addressKey($0)] } ?? [])
    }

    /// Counts this attempt; nil when it may go on, else the seconds until the next may.
    public func admit(login: String, address: String?, now: Timestamp = .now()) async throws -> Int64? {
        let window = max(self.perAccount.window, self.perAddress.window)
        let cutoff = Timestamp(microseconds: now.microseconds - window)
        // Now and then, not on every attempt: the table holds only windows still open.
        if Int.random(in: 0..<64) == 0 { try await self.store.removeExpiredSignInCounts(windowStartedBefore: cutoff) }
        let counts = try await self.store.countSignInAttempt(keys: self.keys(login, address), at: now, windowStartedAfter: cutoff)
        var wait: Int64?
        for (key, count) in counts {
            let limit = key.hasPrefix("login:") ? self.perAccount : self.perAddress
            guard count.failures > limit.attempts else { continue }
            let ends = count.windowStart.microseconds + limit.window
            wait = max(wait ?? 1, (ends - now.microseconds + 999_999) / 1_000_000)
        }
        return wait
    }

    /// The attempt worked: its account starts afresh, and its address gets the attempt back.
    public func succeeded(login: String, address: String?) async throws {
        try await self.store.clearSignInFailures(key: Self.accountKey(login))
        if let address { try await self.store.uncountSignInAttempt(key: Self.addressKey(address)) }
    }
}
