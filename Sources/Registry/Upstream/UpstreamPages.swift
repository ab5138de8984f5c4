import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The upstream's project pages as Wheelhouse serves them: fetched once, kept in the database (so
/// every instance and every restart shares them), reused for the upstream's TTL, then revalidated
/// with its ETag or Last-Modified; when the upstream fails, the last good page is served (stale).
public final class UpstreamPages: Sendable {
    /// How a page was obtained, sent as `Wheelhouse-Upstream`.
    public enum Source: String, Sendable {
        case hit, miss, revalidated, stale
    }

    public struct Answer: Sendable {
        public var page: UpstreamPage
        public var source: Source
        /// Changes whenever the page does: for caching what is rendered from it.
        public var generation: String
    }

    private struct Entry: Sendable {
        var page: UpstreamPage
        var cached: CachedUpstreamPage
    }

    /// The pages kept in memory, in bytes of their stored form (the database keeps them all):
    /// some upstream pages are megabytes, so the bound is on size, not count.
    static let memoryBudget = 64 * 1024 * 1024

    let store: MetadataStore
    let client: UpstreamClient?
    let logger: Logger
    private let memory = NIOLockedValueBox<(entries: [String: Entry], bytes: Int)>(([:], 0))
    private let refreshes = SingleFlight<String, Answer>()

    init(store: MetadataStore, client: UpstreamClient?, logger: Logger) {
        self.store = store
        self.client = client
        self.logger = logger
    }

    /// The upstream's page of a project: 404 when the upstream has none, 502/504 when it fails
    /// and nothing is cached.
    public func page(of normalizedName: String, from index: UpstreamIndex) async throws -> Answer {
        // One upstream per instance: a page is known by its name, whichever URL it came from.
        let key = normalizedName
        if let entry = self.memory.withLockedValue({ $0.entries[key] }), Self.isFresh(entry.cached, ttl: index.ttl) {
            return Answer(page: entry.page, source: .hit, generation: Self.generation(entry.cached))
        }
        return try await self.refreshes.run(key) {
            try await self.refresh(normalizedName, key: key, from: index)
        }
    }

    private func refresh(_ normalizedName: String, key: String, from index: UpstreamIndex) async throws -> Answer {
        var known = self.memory.withLockedValue { $0.entries[key] }
        if let stored = try await self.store.cachedUpstreamPage(normalizedName),
            known.map({ stored.fetchedAt.microseconds > $0.cached.fetchedAt.microseconds }) ?? true,
            let page = Self.decode(stored.page)
        {
            known = Entry(page: page, cached: stored)
            self.remember(known!, key: key)
        }
        if let known, Self.isFresh(known.cached, ttl: index.ttl) {
            // Another instance (or an earlier run) fetched it recently.
            return Answer(page: known.page, source: .hit, generation: Self.generation(known.cached))
        }
        guard let client = self.client else { throw RegistryError.upstreamFailed("502 Bad Gateway: no upstream client is configured") }
        let url = index.projectURL(normalizedName)
        do {
            switch try await client.page(url, from: index, entityTag: known?.cached.entityTag, lastModified: known?.cached.lastModified) {
            case .notFound:
                throw RegistryError.notFound("404 Package Not Found")
            case .notModified:
                guard var entry = known else { throw UpstreamFailure.badAnswer("\(url) answered 304 to an unconditional request") }
                entry.cached.fetchedAt = .now()
                try await self.store.touchUpstreamPage(normalizedName, at: entry.cached.fetchedAt)
                self.remember(entry, key: key)
                return Answer(page: entry.page, source: .revalidated, generation: Self.generation(entry.cached))
            case .page(let body, let contentType, let entityTag, let lastModified, let finalURL):
                let page: UpstreamPage
                do {
                    page = try UpstreamPageParser.parse(
                        Array(body.readableBytesView),
                        contentType: contentType,
                        pageURL: finalURL,
                        project: normalizedName
                    )
                } catch {
                    throw UpstreamFailure.badAnswer("\(url): \(error)")
                }
                let cached = CachedUpstreamPage(
                    page: Self.encode(page),
                    entityTag: entityTag,
                    lastModified: lastModified,
                    fetchedAt: .now()
                )
                try await self.store.saveUpstreamPage(cached, upstream: index.simpleURL, normalizedName: normalizedName)
                let entry = Entry(page: page, cached: cached)
                self.remember(entry, key: key)
                let source: Source = known?.page == page ? .revalidated : .miss
                return Answer(page: page, source: source, generation: Self.generation(cached))
            }
        } catch let failure as UpstreamFailure {
            guard let known else { throw failure.registryError }
            self.logger.warning(
                "serving a stale upstream page",
                metadata: ["project": "\(normalizedName)", "upstream": "\(index.simpleURL)", "why": "\(failure)"]
            )
            return Answer(page: known.page, source: .stale, generation: Self.generation(known.cached))
        }
    }

    /// The page as last cached (here or by another instance), however old, without asking the
    /// upstream: for the file routes, which never forward on their own.
    public func cachedPage(of normalizedName: String) async throws -> UpstreamPage? {
        if let entry = self.memory.withLockedValue({ $0.entries[normalizedName] }) { return entry.page }
        guard let stored = try await self.store.cachedUpstreamPage(normalizedName), let page = Self.decode(stored.page) else { return nil }
        self.remember(Entry(page: page, cached: stored), key: normalizedName)
        return page
    }

    private func remember(_ entry: Entry, key: String) {
        let size = entry.cached.page.utf8.count
        self.memory.withLockedValue { memory in
            if let replaced = memory.entries[key] { memory.bytes -= replaced.cached.page.utf8.count }
            if memory.bytes + size > Self.memoryBudget {
                memory.entries.removeAll(keepingCapacity: true)
                memory.bytes = 0
            }
            guard size <= Self.memoryBudget else { return }
            memory.entries[key] = entry
            memory.bytes += size
        }
    }

    private static func isFresh(_ cached: CachedUpstreamPage, ttl: Duration) -> Bool {
        let ttlMicroseconds = ttl.components.seconds * 1_000_000
        return Timestamp.now().microseconds - cached.fetchedAt.microseconds < ttlMicroseconds
    }

    private static func generation(_ cached: CachedUpstreamPage) -> String {
        "\(cached.fetchedAt.microseconds)|\(cached.entityTag ?? "")|\(cached.page.utf8.count)"
    }

    static func encode(_ page: UpstreamPage) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(page)) ?? Data(), as: UTF8.self)
    }

    static func decode(_ text: String) -> UpstreamPage? {
        try? JSONDecoder().decode(UpstreamPage.self, from: Data(text.utf8))
    }
}

/// Runs one operation per key at a time: callers arriving while it runs get its result.
final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let running = NIOLockedValueBox<[Key: Task<Value, any Error>]>([:])

    func run(_ key: Key, _ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = self.running.withLockedValue { running in
            if let task = running[key] { return task }
            let task = Task { try await operation() }
            running[key] = task
            return task
        }
        defer { self.running.withLockedValue { running in if running[key] == task { running[key] = nil } } }
        return try await task.value
    }
}
