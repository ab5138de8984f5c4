import NIOConcurrencyHelpers

/// A small thread-safe cache whose entries live for a fixed time. Used for what may be a moment
/// old but no more: token lookups and permission checks (a revoked token or a removed member stops
/// working within `lifetime`).
///
/// Expired entries are kept (within `capacity`) for one use only: when the database cannot be
/// reached, `value(for:orCompute:)` answers with what was known last, so cached reads keep working
/// through an outage instead of failing with it.
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

    func removeAll() {
        self.entries.withLockedValue { $0.removeAll() }
    }

    /// The cached value, or `compute`'s, remembered; or, when `compute` finds the database
    /// unavailable, the last value known even if expired.
    func value(for key: Key, orCompute compute: () async throws -> Value) async throws -> Value {
        if let cached = self.value(for: key) { return cached }
        let value: Value
        do {
            value = try await compute()
        } catch RegistryError.unavailable(let message) {
            guard let last = self.entries.withLockedValue({ $0[key]?.value }) else { throw RegistryError.unavailable(message) }
            return last
        }
        self.set(value, for: key)
        return value
    }
}
