import NIOConcurrencyHelpers

/// The one place a write tells the caches that something changed. Every service that writes calls
/// `changed(_:)` once its write is done (or has failed after it may have committed), and every
/// cache that can go stale listens with `onChange(_:)`, so a change made through this process shows
/// on the next request. Changes made elsewhere show within `CacheLifetimes`.
public final class Freshness: Sendable {
    public enum Change: Sendable, Equatable {
        /// Packages changed (an upload, a yank, a deletion): their projects' versions must be read again.
        case packages
        /// Who may do what may have changed (users, tokens, groups, projects, members, deploy
        /// tokens, through the REST API): every decision and token lookup is taken again.
        case access
    }

    private let listeners = NIOLockedValueBox<[@Sendable (Change) -> Void]>([])

    public init() {}

    /// Registers a cache to be told of every change.
    public func onChange(_ listener: @escaping @Sendable (Change) -> Void) {
        self.listeners.withLockedValue { $0.append(listener) }
    }

    public func changed(_ change: Change) {
        for listener in self.listeners.withLockedValue({ $0 }) { listener(change) }
    }

    /// Runs a write and reports `change` when it ends, whether it succeeded or not: a write that
    /// failed after its transaction committed has still changed things.
    public func afterWrite<T>(_ change: Change, _ write: () async throws -> T) async throws -> T {
        defer { self.changed(change) }
        return try await write()
    }
}
