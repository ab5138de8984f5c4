import Crypto
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
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
    /// What a GET's answer depends on besides the registry's data.
    struct Key: Hashable, Sendable {
        var path: String
        /// sha256 of the credential headers, if any: a secret is never kept.
        var credentials: SHA256.Digest?
        var authority: String?
        var accept: String?
        var ifNoneMatch: String?
        var range: String?
        var ifRange: String?

        /// The key of a request that may be answered by replay: a GET with no body that does not ask
        /// to close the connection; nil for any other.
        init?(_ request: HTTPRequest) {
            guard request.method == .get, let path = request.path else { return nil }
            let fields = request.headerFields
            guard fields[.contentLength] == nil, fields[.transferEncoding] == nil,
                  fields[.connection]?.lowercased() != "close"
            else { return nil }
            self.path = path
            self.credentials = Self.credentialDigest(fields)
            self.authority = request.authority
            self.accept = fields[.accept]
            self.ifNoneMatch = fields[.ifNoneMatch]
            self.range = fields[.range]
            self.ifRange = fields[.ifRange]
        }

        private static func credentialDigest(_ fields: HTTPFields) -> SHA256.Digest? {
            var hasher = SHA256()
            var presented = false
            for (index, name) in CredentialExtraction.headerNames.enumerated() {
                for field in fields where field.name == name {
                    presented = true
                    // Which header, then its value: "a" in one header never equals "a" in another.
                    hasher.update(data: [UInt8(index), UInt8(truncatingIfNeeded: field.value.utf8.count)])
                    var value = field.value
                    value.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
                }
            }
            return presented ? hasher.finalize() : nil
        }
    }

    /// A sent answer and what it was made from.
    struct Answer: Sendable {
        var head: HTTPResponse
        /// Who the answer was for, as the request log names callers.
        var caller: String
        var body: [ByteBuffer]
        var projects: [ProjectID]
        var versions: [ProjectID: Int64]
        var expires: ContinuousClock.Instant
    }

    /// The internal header through which the responder marks an answer as replayable, with the
    /// versions it was made from; `ReplayHandler` removes it before the answer leaves.
    static let marker = HTTPField.Name("Wheelhouse-Replayable")!

    static let lifetime = Duration.milliseconds(250)
    /// Answers larger than this are not kept (whole downloads stream from disk instead). A page of
    /// 500 files is about 280 KiB in JSON.
    static let largestBody = 1024 * 1024

    private struct Storage {
        var answers: [Key: Answer] = [:]
        var bytes = 0
    }

    private let storage = NIOLockedValueBox(Storage())
    private let packages: PackageService
    private let capacity: Int

    init(packages: PackageService, capacityBytes: Int = 32 * 1024 * 1024) {
        self.packages = packages
        self.capacity = capacityBytes
    }

    /// The answer to replay for `key`, if it is still the answer.
    func answer(for key: Key) -> Answer? {
        let now = ContinuousClock.now
        guard let answer = self.storage.withLockedValue({ $0.answers[key] }), answer.expires > now,
              let current = self.packages.freshPackagesVersions(of: answer.projects), current == answer.versions
        else { return nil }
        return answer
    }

    func store(_ answer: Answer, for key: Key) {
        let size = answer.body.reduce(0) { $0 + $1.readableBytes }
        self.storage.withLockedValue { storage in
            if storage.bytes + size > self.capacity {
                // Bounded memory: start again (answers are cheap to make once).
                storage.answers.removeAll(keepingCapacity: true)
                storage.bytes = 0
            }
            if let old = storage.answers.updateValue(answer, forKey: key) {
                storage.bytes -= old.body.reduce(0) { $0 + $1.readableBytes }
            }
            storage.bytes += size
        }
    }

    func removeAll() {
        self.storage.withLockedValue { $0 = Storage() }
    }

    // MARK: The marker's value: "id=version,id=version caller", projects in the order they were read

    struct Marker: Equatable {
        var projects: [ProjectID]
        var versions: [ProjectID: Int64]
        var caller: String

        var value: String? {
            var pairs: [String] = []
            for id in self.projects {
                guard let version = self.versions[id] else { return nil }
                pairs.append("\(id)=\(version)")
            }
            return pairs.joined(separator: ",") + " " + self.caller
        }

        init(projects: [ProjectID], versions: [ProjectID: Int64], caller: String) {
            self.projects = projects
            self.versions = versions
            self.caller = caller
        }

        init?(value: String) {
            guard let space = value.firstIndex(of: " ") else { return nil }
            self.init(projects: [], versions: [:], caller: String(value[value.index(after: space)...]))
            for pair in value[..<space].split(separator: ",") {
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let id = Int64(parts[0]), let version = Int64(parts[1]) else { return nil }
                self.projects.append(id)
                self.versions[id] = version
            }
        }
    }
}
