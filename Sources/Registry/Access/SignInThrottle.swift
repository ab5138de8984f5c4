/// Slows down password guessing: failed sign-ins are counted per account (the login as typed,
/// lowercased, whether or not such a user exists, so the answer tells nothing) and per client
/// address, in the database so every instance counts the same. Past a limit within the window,
/// sign-in is refused until the window ends, even with the right password.
public struct SignInThrottle: Sendable {
    public struct Limit: Sendable {
        public var failures: Int
        /// Microseconds.
        public var window: Int64
    }

    let store: MetadataStore
    public var perAccount = Limit(failures: 10, window: 15 * 60 * 1_000_000)
    public var perAddress = Limit(failures: 50, window: 15 * 60 * 1_000_000)

    init(store: MetadataStore) { self.store = store }

    static func accountKey(_ login: String) -> String { "login:" + String(login.lowercased().prefix(255)) }
    static func addressKey(_ address: String) -> String { "ip:" + address }

    /// Seconds until sign-in may be tried again, if either limit is reached; nil when it may be tried.
    public func retryAfter(login: String, address: String?, now: Timestamp = .now()) async throws -> Int64? {
        let window = max(self.perAccount.window, self.perAddress.window)
        let keys = [Self.accountKey(login)] + (address.map { [Self.addressKey($0)] } ?? [])
        let counts = try await self.store.signInFailures(keys: keys, windowStartedAfter: Timestamp(microseconds: now.microseconds - window))
        var wait: Int64?
        for (key, count) in counts {
            let limit = key.hasPrefix("login:") ? self.perAccount : self.perAddress
            let ends = count.windowStart.microseconds + limit.window
            guard count.failures >= limit.failures, ends > now.microseconds else { continue }
            let seconds = (ends - now.microseconds + 999_999) / 1_000_000
            wait = max(wait ?? 0, seconds)
        }
        return wait
    }

    public func recordFailure(login: String, address: String?, now: Timestamp = .now()) async throws {
        let keys = [Self.accountKey(login)] + (address.map { [Self.addressKey($0)] } ?? [])
        let window = max(self.perAccount.window, self.perAddress.window)
        try await self.store.recordSignInFailure(keys: keys, at: now, windowStartedAfter: Timestamp(microseconds: now.microseconds - window))
    }

    /// A sign-in that worked clears the account's count (not the address's: one right password
    /// does not excuse a spray of wrong ones from the same place).
    public func recordSuccess(login: String) async throws {
        try await self.store.clearSignInFailures(key: Self.accountKey(login))
    }
}
