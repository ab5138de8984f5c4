import Crypto
import NIOConcurrencyHelpers
import PythonPackaging

/// Whether this instance can do its work: the database answers and the blob store can be written
/// and read back. Checked at most once a second however often a load balancer asks, and callers
/// that arrive while a check runs wait for that one: probes never pile up queries.
public final class ReadinessProbe: Sendable {
    /// One check's outcome: `nil` when it passed, else why it did not, in one line.
    public struct Report: Sendable, Equatable {
        public var database: String?
        public var blobStore: String?
        public var isReady: Bool { self.database == nil && self.blobStore == nil }
    }

    private enum State {
        case idle
        case checked(Report, at: ContinuousClock.Instant)
        case checking(Task<Report, Never>)
    }

    private let store: MetadataStore
    private let blobs: any BlobStore
    private let maxAge: Duration
    private let timeout: Duration
    private let state = NIOLockedValueBox(State.idle)

    public init(store: MetadataStore, blobs: any BlobStore, maxAge: Duration = .seconds(1), timeout: Duration = .seconds(2)) {
        self.store = store
        self.blobs = blobs
        self.maxAge = maxAge
        self.timeout = timeout
    }

    /// The latest report, no older than `maxAge`.
    public func report() async -> Report {
        let task: Task<Report, Never> = self.state.withLockedValue { state in
            switch state {
            case .checked(let report, let at) where ContinuousClock.now - at < self.maxAge:
                return Task { report }
            case .checking(let task):
                return task
            case .idle, .checked:
                let task = Task { await self.check() }
                state = .checking(task)
                return task
            }
        }
        let report = await task.value
        self.state.withLockedValue { state in
            if case .checking = state { state = .checked(report, at: .now) }
        }
        return report
    }

    private func check() async -> Report {
        async let database = self.within(self.timeout, "the database") { try await self.store.ping() }
        async let blobStore = self.within(self.timeout, "the blob store") { try await self.writeAndRead() }
        return await Report(database: database, blobStore: blobStore)
    }

    /// Writes a small blob no row will ever name (random bytes), reads it back and removes it.
    private func writeAndRead() async throws {
        var bytes = [UInt8](repeating: 0, count: 32)
        var random = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = random.next() }
        let sha256 = Hex.encode(SHA256.hash(data: bytes))
        let (upload, _) = try await self.blobs.stage(bytes)
        try await self.blobs.transfer(upload, sha256: sha256)
        try await self.blobs.commit(upload, sha256: sha256)
        let read = try await self.blobs.read(sha256: sha256, range: 0...Int64(bytes.count - 1))
        try await self.blobs.remove(sha256: sha256)
        guard read.readableBytesView.elementsEqual(bytes) else { throw ProbeFailure(description: "a blob read back differs from what was written") }
    }

    /// Nil when `body` succeeds within `limit`, else a one-line reason. A body still running at
    /// the limit is left to finish on its own (the store's own deadlines end it): the probe answers now.
    private func within(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Void) async -> String? {
        await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            let outcome = FirstOutcome(continuation)
            Task {
                do {
                    try await body()
                    outcome.resume(with: nil)
                } catch {
                    outcome.resume(with: Self.oneLine(error))
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                outcome.resume(with: "\(what) did not answer within \(limit)")
            }
        }
    }

    private static func oneLine(_ error: any Error) -> String {
        let text = "\(error)"
        return String(text.prefix { $0 != "\n" }.prefix(300))
    }
}

/// Resumes a continuation with whichever outcome comes first; later ones are dropped.
private final class FirstOutcome: Sendable {
    private let continuation: NIOLockedValueBox<CheckedContinuation<String?, Never>?>

    init(_ continuation: CheckedContinuation<String?, Never>) {
        self.continuation = NIOLockedValueBox(continuation)
    }

    func resume(with outcome: String?) {
        let continuation = self.continuation.withLockedValue { stored in
            defer { stored = nil }
            return stored
        }
        continuation?.resume(returning: outcome)
    }
}

private struct ProbeFailure: Error, CustomStringConvertible {
    var description: String
}

extension MetadataStore {
    /// One round trip to the database.
    func ping() async throws {
        try await self.database.read { database in try await database.raw("SELECT 1").run() }
    }
}
