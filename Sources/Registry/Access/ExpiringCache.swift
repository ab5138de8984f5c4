import NIOConcurrencyHelpers

/// A small thread-safe cache whose entries live for a fixed time. Used for what may be a moment
/// old but no more: token lookups and permission checks (a revoked token or a removed member stops
/// working within `lifetime`).
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
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
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

    /// The cached value, or `compute`'s, remembered.
    func value(for key: Key, orCompute compute: () async throws -> Value) async rethrows -> Value {
        if let cached = self.value(for: key) { return cached }
        let value = try await compute()
        self.set(value, for: key)
        return value
    }
}
