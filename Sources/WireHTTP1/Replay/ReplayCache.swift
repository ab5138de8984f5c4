import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Answers to reads, kept as they were sent so that `ReplayHandler` can send them again from the
/// event loop, beneath Hummingbird, without a task, a database query or a render.
///
/// An answer is replayed only to the same request with the same credentials (compared by digest),
/// and only while it would still be the answer: the packages_version of every project it shows is
/// the one it was made from (as `currentVersions` reports them: the versions as last read, or nil
/// when that read is too old and the request must go the normal way, which reads them again), and
/// it is younger than `lifetime`. How these lifetimes add up is the registry's business (its
/// `CacheLifetimes`). A change of who may do what made through this server clears it with
/// `removeAll`; a change of packages needs no clearing, since it changes the versions checked.
public final class ReplayCache: Sendable {
    /// A sent answer and what it was made from.
    struct Answer: Sendable {
        var head: HTTPResponseHead
        /// Who the answer was for, as the request log names callers.
        var caller: String
        /// The route it was made for, as metrics name it (see `RouteLabel`).
        var route: String
        var body: ByteBuffer
        var projects: [Int64]
        var versions: [Int64: Int64]
        /// The cache's generation when the request was authorised (see `removeAll`).
        var generation: Int
        var expires: ContinuousClock.Instant

        /// What keeping it costs, roughly: body, key and head, and a fixed overhead per entry.
        func cost(under key: Key) -> Int {
            let body = self.body.readableBytes
            let head = self.head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
            let keyBytes = [key.path, key.authority, key.accept, key.ifNoneMatch, key.range, key.ifRange]
                .reduce(0) { $0 + ($1?.utf8.count ?? 0) }
            return body + head + keyBytes + 512
        }
    }

    /// Answers larger than this are not kept (whole downloads stream from disk instead). A page of
    /// 500 files is about 280 KiB in JSON.
    static let largestBody = 1024 * 1024

    private struct Storage {
        var answers: [Key: (answer: Answer, cost: Int)] = [:]
        var bytes = 0
        /// Bumped by `removeAll`: an answer authorised before is not kept after.
        var generation = 0
    }

    private let storage = NIOLockedValueBox(Storage())
    /// The projects' current versions as last read, or nil when that read is too old to trust.
    private let currentVersions: @Sendable ([Int64]) -> [Int64: Int64]?
    /// How long a kept answer may be replayed.
    let lifetime: Duration
    let credentialHeaders: CredentialHeaders
    private let capacity: Int

    public init(
        lifetime: Duration,
        credentialHeaders: CredentialHeaders,
        capacityBytes: Int = 32 * 1024 * 1024,
        currentVersions: @escaping @Sendable ([Int64]) -> [Int64: Int64]?
    ) {
        self.lifetime = lifetime
        self.credentialHeaders = credentialHeaders
        self.capacity = capacityBytes
        self.currentVersions = currentVersions
    }

    /// To be read before a request is authorised and carried in its `ReplayableAnswer`.
    public var generation: Int {
        self.storage.withLockedValue { $0.generation }
    }

    /// The answer to replay for `key`, if it is still the answer.
    func answer(for key: Key) -> Answer? {
        let now = ContinuousClock.now
        guard let answer = self.storage.withLockedValue({ $0.answers[key]?.answer }), answer.expires > now,
            let current = self.currentVersions(answer.projects), current == answer.versions
        else { return nil }
        return answer
    }

    func store(_ answer: Answer, for key: Key) {
        let cost = answer.cost(under: key)
        let now = ContinuousClock.now
        self.storage.withLockedValue { storage in
            // Something changed through this server since the request was authorised: not this one.
            guard answer.generation == storage.generation else { return }
            if let old = storage.answers.removeValue(forKey: key) { storage.bytes -= old.cost }
            if storage.bytes + cost > self.capacity {
                // Bounded memory: drop what has expired; if that is not enough, start again
                // (answers are cheap to make once).
                storage.answers = storage.answers.filter { $0.value.answer.expires > now }
                storage.bytes = storage.answers.values.reduce(0) { $0 + $1.cost }
                if storage.bytes + cost > self.capacity {
                    storage.answers.removeAll(keepingCapacity: true)
                    storage.bytes = 0
                }
            }
            storage.answers[key] = (answer, cost)
            storage.bytes += cost
        }
    }

    /// Forgets every answer, and refuses those of requests authorised before this call.
    public func removeAll() {
        self.storage.withLockedValue { storage in
            storage.answers.removeAll()
            storage.bytes = 0
            storage.generation += 1
        }
    }
}
