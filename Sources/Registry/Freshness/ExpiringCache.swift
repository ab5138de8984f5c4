import NIOConcurrencyHelpers

/// A small thread-safe cache whose entries live for a fixed time. Used for what may be a moment
/// old but no more: token lookups and permission checks (a revoked token or a removed member stops
/// working within `lifetime`).
///
/// Expired entries are kept (within `capacity`, for at most `CacheLifetimes.staleIfUnavailable`) for one purpose only: when
/// the database cannot be reached, `value(for:orCompute:)` answers reads with what was known last,
/// so cached reads keep working through an outage instead of failing with it. A definite answer
/// from the database (an error other than `unavailable`) removes the entry.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[Key: Entry]>([:])
    private let lifetime: Duration
    private let capacity: Int

    init(lifetime: Duration, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func value(for key: Key) -> Value? {
        let now = ContinuousClock.now
        return self.entries.withLockedValue { entries in
            guard let entry = entries[key], entry.expires > now else { return nil }
            return entry.value
        }
    }

    func set(_ value: Value, for key: Key) {
        let expires = ContinuousClock.now + self.lifetime
        self.entries.withLockedValue { entries in
            if entries.count >= self.capacity {
                // Bounded memory: drop what has expired, and everything if that was not enough.
                let now = ContinuousClock.now
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= self.capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(value: value, expires: expires)
        }
    }

    func remove(_ key: Key) {
        _ = self.entries.withLockedValue { $0.removeValue(forKey: key) }
    }

    func removeAll() {
        self.entries.withLockedValue { $0.removeAll() }
    }

    /// Makes every entry expired: none is handed out as fresh again, but each may still stand in
    /// for the database while it cannot be reached (see `value(for:allowStale:orCompute:)`).
    func expireAll() {
        let now = ContinuousClock.now
        self.entries.withLockedValue { entries in
            for key in entries.keys { entries[key]!.expires = now }
        }
    }

    /// The cached value, or `compute`'s, remembered; or, when `compute` finds the database
    /// unavailable and `allowStale` (reads only), the last value known even if expired.
    func value(for key: Key, allowStale: Bool = true, orCompute compute: () async throws -> Value) async throws -> Value {
        if let cached = self.value(for: key) { return cached }
        let value: Value
        do {
            value = try await compute()
        } catch RegistryError.unavailable(let message) {
            let oldest = ContinuousClock.now - CacheLifetimes.staleIfUnavailable
            guard allowStale, let last = self.entries.withLockedValue({ $0[key] }), last.expires > oldest else {
                throw RegistryError.unavailable(message)
            }
            return last.value
        } catch {
            self.entries.withLockedValue { $0[key] = nil }
            throw error
        }
        self.set(value, for: key)
        return value
    }
}
