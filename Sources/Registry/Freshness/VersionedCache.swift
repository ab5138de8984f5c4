import NIOConcurrencyHelpers

/// Values derived from projects' packages, kept until one of those projects changes.
///
/// Each value remembers the `packages_version` of every project it was derived from, read before
/// the data (so a value can only be tagged older than what it holds, never newer). It is handed out
/// only while the current versions all match, so it is never stale.
public final class VersionedCache<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var versions: [ProjectID: Int64]
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let capacity: Int
    private let counters: CacheCounters?

    /// `counting` (when given) counts every lookup as a hit or a miss.
    public init(capacity: Int = 4_096, counting counters: CacheCounters? = nil) {
        self.capacity = capacity
        self.counters = counters
    }

    public func value(for key: String, versions: [ProjectID: Int64]) -> Value? {
        let value: Value? = self.entries.withLockedValue { entries in
            guard let entry = entries[key], entry.versions == versions else { return nil }
            return entry.value
        }
        self.counters?.record(hit: value != nil)
        return value
    }

    public func store(_ value: Value, for key: String, versions: [ProjectID: Int64]) {
        self.entries.withLockedValue { entries in
            // Bounded memory: when full, start again (values are cheap to derive once).
            if entries.count >= self.capacity, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(value: value, versions: versions)
        }
    }

    /// The cached value for these versions, or `derive`'s, remembered.
    public func value(for key: String, versions: [ProjectID: Int64], orDerive derive: () async throws -> Value) async throws -> Value {
        if let value = self.value(for: key, versions: versions) { return value }
        let value = try await derive()
        self.store(value, for: key, versions: versions)
        return value
    }
}
