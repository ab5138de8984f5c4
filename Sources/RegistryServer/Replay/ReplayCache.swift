import Crypto
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Registry

/// Answers to reads, kept as they were sent so that `ReplayHandler` can send them again from the
/// event loop, beneath Hummingbird, without a task, a database query or a render.
///
/// An answer is replayed only to the same request with the same credentials (compared by digest),
/// and only while it would still be the answer: the packages_version of every project it shows is
/// the one it was made from (as last read, at most `PackageService.versionLifetime` ago; when that
/// read is older, the request goes the normal way, which reads it again), and it is younger than
/// `lifetime`. So a token revoked elsewhere stops working within the token cache's lifetime plus
/// this one (one second in all), and a change of visibility or membership made elsewhere within
/// the permission cache's second plus this. Changes made through this server clear it.
final class ReplayCache: Sendable {
    /// What a GET's answer depends on besides the registry's data, read from the HTTP/1 request head
    /// (the replay happens below Hummingbird's HTTP-types conversion).
    struct Key: Hashable, Sendable {
        /// The request target as sent, query included.
        var path: String
        /// sha256 of the credential headers, if any: a secret is never kept.
        var credentials: SHA256.Digest?
        var authority: String?
        var accept: String?
        var ifNoneMatch: String?
        var range: String?
        var ifRange: String?

        /// The key of a request that may be answered by replay: an HTTP/1.1 GET with no body that
        /// keeps the connection open, with at most one of each header the key holds; nil for any other.
        init?(_ head: HTTPRequestHead) {
            // A request that closes its connection is not keyed: the answer's connection handling is
            // Hummingbird's, not the replay's.
            guard head.method == .GET, head.version == .http1_1, head.isKeepAlive else { return nil }
            self.path = head.uri
            var credentials: SHA256?
            for (name, value) in head.headers {
                guard let field = KeyField(name) else { continue }
                switch field {
                case .host: guard Self.setOnce(&self.authority, value) else { return nil }
                case .accept: guard Self.setOnce(&self.accept, value) else { return nil }
                case .ifNoneMatch: guard Self.setOnce(&self.ifNoneMatch, value) else { return nil }
                case .range: guard Self.setOnce(&self.range, value) else { return nil }
                case .ifRange: guard Self.setOnce(&self.ifRange, value) else { return nil }
                case .contentLength, .transferEncoding: return nil
                case .credential(let index):
                    // Which header, then its value, in the order sent: "a" in one header never
                    // equals "a" in another, and the same headers give the same digest.
                    var hasher = credentials ?? SHA256()
                    let length = UInt32(truncatingIfNeeded: value.utf8.count)
                    hasher.update(data: [index] + withUnsafeBytes(of: length.bigEndian, Array.init))
                    var value = value
                    value.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
                    credentials = hasher
                }
            }
            self.credentials = credentials?.finalize()
        }

        /// Sets a field the answer depends on; false when the request has it twice.
        private static func setOnce(_ field: inout String?, _ value: String) -> Bool {
            guard field == nil else { return false }
            field = value
            return true
        }
    }

    /// The headers `Key` reads, matched by name without regard to case and without allocating.
    enum KeyField: Equatable {
        case host, accept, ifNoneMatch, range, ifRange, contentLength, transferEncoding
        /// One of `CredentialExtraction.headerNames`, by its index there.
        case credential(UInt8)

        init?(_ name: String) {
            let utf8 = name.utf8
            switch utf8.count {
            case 4 where Self.matches(utf8, "host"): self = .host
            case 5 where Self.matches(utf8, "range"): self = .range
            case 6 where Self.matches(utf8, "accept"): self = .accept
            case 8 where Self.matches(utf8, "if-range"): self = .ifRange
            case 13 where Self.matches(utf8, "if-none-match"): self = .ifNoneMatch
            case 14 where Self.matches(utf8, "content-length"): self = .contentLength
            case 17 where Self.matches(utf8, "transfer-encoding"): self = .transferEncoding
            default:
                guard let index = CredentialExtraction.headerNames.firstIndex(where: { $0.canonicalName.utf8.count == utf8.count && Self.matches(utf8, $0.canonicalName) }) else {
                    return nil
                }
                self = .credential(UInt8(index))
            }
        }

        /// Whether `name` is `lowercase` in any case (header names are tokens: letters, digits and
        /// a few symbols, so setting bit 5 lowercases a letter and leaves `-` as it is).
        private static func matches(_ name: String.UTF8View, _ lowercase: String) -> Bool {
            name.elementsEqual(lowercase.utf8) { ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 }
        }
    }

    /// A sent answer and what it was made from.
    struct Answer: Sendable {
        var head: HTTPResponseHead
        /// Who the answer was for, as the request log names callers.
        var caller: String
        var body: ByteBuffer
        var projects: [ProjectID]
        var versions: [ProjectID: Int64]
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

    /// The internal header through which the responder marks an answer as replayable, with the
    /// versions it was made from; `ReplayHandler` removes it before the answer leaves.
    static let marker = HTTPField.Name(markerName)!
    static let markerName = "Wheelhouse-Replayable"

    static let lifetime = Duration.milliseconds(250)
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
    private let packages: PackageService
    private let capacity: Int

    init(packages: PackageService, capacityBytes: Int = 32 * 1024 * 1024) {
        self.packages = packages
        self.capacity = capacityBytes
    }

    /// To be read before a request is authorised and carried in its marker.
    var generation: Int {
        self.storage.withLockedValue { $0.generation }
    }

    /// The answer to replay for `key`, if it is still the answer.
    func answer(for key: Key) -> Answer? {
        let now = ContinuousClock.now
        guard let answer = self.storage.withLockedValue({ $0.answers[key]?.answer }), answer.expires > now,
              let current = self.packages.freshPackagesVersions(of: answer.projects), current == answer.versions
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
    func removeAll() {
        self.storage.withLockedValue { storage in
            storage.answers.removeAll()
            storage.bytes = 0
            storage.generation += 1
        }
    }

    // MARK: The marker's value: "generation;id=version,id=version;caller", projects in the order they were read

    struct Marker: Equatable {
        var projects: [ProjectID]
        var versions: [ProjectID: Int64]
        var caller: String
        var generation: Int

        var value: String? {
            var pairs: [String] = []
            for id in self.projects {
                guard let version = self.versions[id] else { return nil }
                pairs.append("\(id)=\(version)")
            }
            return "\(self.generation);\(pairs.joined(separator: ","));\(self.caller)"
        }

        init(projects: [ProjectID], versions: [ProjectID: Int64], caller: String, generation: Int) {
            self.projects = projects
            self.versions = versions
            self.caller = caller
            self.generation = generation
        }

        init?(value: String) {
            let parts = value.split(separator: ";", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let generation = Int(parts[0]), !parts[2].isEmpty else { return nil }
            self.init(projects: [], versions: [:], caller: String(parts[2]), generation: generation)
            for pair in parts[1].split(separator: ",") {
                let fields = pair.split(separator: "=")
                guard fields.count == 2, let id = Int64(fields[0]), let version = Int64(fields[1]) else { return nil }
                self.projects.append(id)
                self.versions[id] = version
            }
        }
    }
}
