import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import Registry

/// Answers to anonymous reads, kept as they were sent so that `ReplayHandler` can send them again
/// from the event loop, beneath Hummingbird, without a task, a database query or a render.
///
/// An answer is replayed only while it would still be the answer: the packages_version of every
/// project it shows is the one it was made from (as last read, at most `PackageService.versionLifetime`
/// ago; when that read is older, the request goes the normal way, which reads it again), and it is
/// younger than `lifetime`, so a change of visibility or membership made elsewhere applies within
/// the permission cache's second plus `lifetime`. Changes made through this server clear it.
final class ReplayCache: Sendable {
    /// What an anonymous GET's answer depends on besides the registry's data.
    struct Key: Hashable, Sendable {
        var path: String
        var authority: String?
        var accept: String?
        var ifNoneMatch: String?
        var range: String?
        var ifRange: String?

        /// The key of a request that may be answered by replay: an anonymous GET with no body that
        /// does not ask to close the connection; nil for any other.
        init?(_ request: HTTPRequest) {
            guard request.method == .get, let path = request.path else { return nil }
            let fields = request.headerFields
            guard Self.isAnonymous(fields), fields[.contentLength] == nil, fields[.transferEncoding] == nil,
                  fields[.connection]?.lowercased() != "close"
            else { return nil }
            self.path = path
            self.authority = request.authority
            self.accept = fields[.accept]
            self.ifNoneMatch = fields[.ifNoneMatch]
            self.range = fields[.range]
            self.ifRange = fields[.ifRange]
        }

        /// No credential at all; an unreadable one is not anonymous (it gets a 401).
        private static func isAnonymous(_ fields: HTTPFields) -> Bool {
            do { return try CredentialExtraction.credential(from: fields) == nil } catch { return false }
        }
    }

    /// A sent answer and what it was made from.
    struct Answer: Sendable {
        var head: HTTPResponse
        var body: [ByteBuffer]
        var projects: [ProjectID]
        var versions: [ProjectID: Int64]
        var expires: ContinuousClock.Instant
    }

    /// The internal header through which the responder marks an answer as replayable, with the
    /// versions it was made from; `ReplayHandler` removes it before the answer leaves.
    static let marker = HTTPField.Name("Wheelhouse-Replayable")!

    static let lifetime = Duration.milliseconds(250)
    /// Answers larger than this are not kept (whole downloads stream from disk instead).
    static let largestBody = 256 * 1024

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

    // MARK: The marker's value: "id=version,id=version", in the order the projects were read

    static func markerValue(projects: [ProjectID], versions: [ProjectID: Int64]) -> String? {
        var pairs: [String] = []
        for id in projects {
            guard let version = versions[id] else { return nil }
            pairs.append("\(id)=\(version)")
        }
        return pairs.joined(separator: ",")
    }

    static func projectsAndVersions(fromMarker value: String) -> (projects: [ProjectID], versions: [ProjectID: Int64])? {
        var projects: [ProjectID] = []
        var versions: [ProjectID: Int64] = [:]
        for pair in value.split(separator: ",") {
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let id = Int64(parts[0]), let version = Int64(parts[1]) else { return nil }
            projects.append(id)
            versions[id] = version
        }
        return (projects, versions)
    }
}
