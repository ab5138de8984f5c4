import AWSSigV4
import AsyncHTTPClient
import Crypto
import Logging
import NIOCore
import NIOPosix
import PythonPackaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blobs in an S3-compatible bucket, each at `[prefix/]sha256/<sha256>`.
///
/// An upload is spooled to a local temporary file while it is hashed (as with the local store),
/// then sent under its final key before its row commits. Spooling, not streaming into a multipart
/// upload, because the key is the content's sha256, known only at the end: streaming would write a
/// temporary object and then copy it (a second full write in the bucket, and UploadPartCopy above
/// 5 GiB), the wheel's metadata is read from the end of the file before the row is recorded, and a
/// crash leaves a local file (swept at start-up) rather than a temporary object. Content already in
/// the bucket is not sent again.
public final class S3BlobStore: BlobStore {
    /// Larger files go as a multipart upload of `partSize` parts, `partsInFlight` at a time (the
    /// memory an upload holds: parts are read from the spooled file, hashed and sent).
    public static let singlePutLimit: Int64 = 16 * 1024 * 1024
    public static let partSize: Int64 = 8 * 1024 * 1024
    public static let partsInFlight = 3
    /// How long a redirect to a presigned URL stays valid (GitLab's choice too).
    public static let redirectLifetimeSeconds = 600

    public let configuration: S3Configuration
    let client: S3Client
    let writer: S3ObjectWriter
    private let spool: UploadSpool
    private let threadPool: NIOThreadPool
    private let logger: Logger
    /// Core metadata and small files are read often (resolvers read every `.metadata`), so their
    /// bytes stay in memory: 32 MiB in all, entries up to 64 KiB (the reads answered from memory;
    /// larger ones stream).
    private let smallBlobs = SmallBlobCache(capacity: 32 * 1024 * 1024, largestEntry: 64 * 1024)

    public init(configuration: S3Configuration, spoolDirectory: String, logger: Logger, threadPool: NIOThreadPool = .singleton) throws {
        self.configuration = configuration
        self.spool = try UploadSpool(directory: spoolDirectory, threadPool: threadPool)
        self.threadPool = threadPool
        self.logger = logger
        self.client = S3Client(configuration: configuration, logger: logger)
        self.writer = S3ObjectWriter(client: self.client, threadPool: threadPool, logger: logger)
    }

    public func shutdown() async throws {
        try await self.client.shutdown()
    }

    // MARK: Writing

    public func makeUpload() async throws -> BlobUpload {
        try await self.spool.makeUpload()
    }

    public func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference) {
        try await self.spool.stage(bytes)
    }

    public func transfer(_ upload: BlobUpload, sha256: String) async throws {
        try await self.failingAsUnavailable("store \(sha256)") {
            try await self.ensureStored(upload, sha256: sha256)
        }
    }

    /// Under the blob lock: the object was sent by `transfer`, but a deletion of the last file with
    /// the same bytes may have removed it since; then it is sent again from the spooled file.
    public func commit(_ upload: BlobUpload, sha256: String) async throws {
        try await self.failingAsUnavailable("store \(sha256)") {
            try await self.ensureStored(upload, sha256: sha256)
        }
        upload.discard()
    }

    private func ensureStored(_ upload: BlobUpload, sha256: String) async throws {
        let key = self.configuration.key(forSHA256: sha256)
        if let stored = try await self.objectSize(key: key), stored == upload.size { return }
        try await self.writer.write(key: key, from: upload.path, size: upload.size, sha256: sha256)
        self.logger.debug("stored a blob in the bucket", metadata: ["key": "\(key)", "bytes": "\(upload.size)"])
    }

    // MARK: Reading

    public func size(ofSHA256 sha256: String) async throws -> Int64? {
        try await self.failingAsUnavailable("look up \(sha256)") {
            try await self.objectSize(key: self.configuration.key(forSHA256: sha256))
        }
    }

    private func objectSize(key: String) async throws -> Int64? {
        let response = try await self.client.send(S3Client.Call(method: .HEAD, key: key, accepting: [404]))
        guard response.status != .notFound else { return nil }
        return response.headers.first(name: "content-length").flatMap(Int64.init)
    }

    public func read(sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer {
        if let cached = self.smallBlobs.bytes(of: sha256, range: range) { return cached }
        let count = Int(range.upperBound - range.lowerBound + 1)
        let bytes = try await self.failingAsUnavailable("read \(sha256)") {
            let response = try await self.get(sha256: sha256, range: range)
            let body = try await response.body.collect(upTo: count)
            guard body.readableBytes == count else {
                throw S3Failure.refused(status: 206, code: "ShortRead", message: "the store sent \(body.readableBytes) of \(count) bytes")
            }
            return body
        }
        if range.lowerBound == 0 { self.smallBlobs.keep(bytes, of: sha256) }
        return bytes
    }

    /// Streams from one GET (`S3BodyStream`): the client's reading paces the bucket's sending. The
    /// connection's reads (up to 64 KiB each) are gathered into chunks of `streamedChunkSize`, so
    /// that the answer goes out in few large writes rather than one hop to the client's event loop
    /// per read.
    public func chunks(sha256: String, range: ClosedRange<Int64>) async throws -> BlobChunks {
        let stream = try await self.failingAsUnavailable("read \(sha256)") {
            let (status, stream) = try await self.client.stream(
                S3Client.Call(
                    method: .GET,
                    key: self.configuration.key(forSHA256: sha256),
                    headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound)")],
                    accepting: [404]
                )
            )
            if status == 404 { throw BlobStoreError.notFound(sha256: sha256) }
            // A store that ignores Range answers 200 with the whole object: right only from offset 0.
            guard status == 206 || (status == 200 && range.lowerBound == 0) else {
                throw S3Failure.refused(status: status, code: "NotPartial", message: "the store did not answer the range with 206")
            }
            return stream
        }
        let cursor = ResponseCursor(stream.chunks.makeAsyncIterator(), expected: range.upperBound - range.lowerBound + 1)
        let logger = self.logger
        return BlobChunks {
            do {
                return try await cursor.nextChunk(gathering: Self.streamedChunkSize)
            } catch {
                // The head is sent by now: the connection is cut short, and the operator told why.
                logger.error("a download from the bucket broke off", metadata: ["sha256": "\(sha256)", "error": "\(error)"])
                throw error
            }
        }
    }

    static let streamedChunkSize = 1024 * 1024

    private func get(sha256: String, range: ClosedRange<Int64>) async throws -> HTTPClientResponse {
        let response = try await self.client.send(
            S3Client.Call(
                method: .GET,
                key: self.configuration.key(forSHA256: sha256),
                headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound)")],
                accepting: [404]
            )
        )
        if response.status == .notFound { throw BlobStoreError.notFound(sha256: sha256) }
        guard response.status == .partialContent || (response.status == .ok && range.lowerBound == 0) else {
            throw S3Failure.refused(status: Int(response.status.code), code: "NotPartial", message: "the store did not answer the range with 206")
        }
        return response
    }

    public func localPath(forSHA256 sha256: String) -> String? { nil }

    public func downloadURL(forSHA256 sha256: String, fileName: String) -> String? {
        guard self.configuration.downloadMode == .redirect else { return nil }
        return self.client.presignedGET(
            key: self.configuration.key(forSHA256: sha256),
            query: [("response-content-disposition", "attachment; filename=\"\(fileName)\"")],
            expiresInSeconds: Self.redirectLifetimeSeconds
        )
    }

    // MARK: Maintenance

    public func remove(sha256: String) async throws {
        self.smallBlobs.forget(sha256)
        try await self.failingAsUnavailable("delete \(sha256)") {
            _ = try await self.client.send(S3Client.Call(method: .DELETE, key: self.configuration.key(forSHA256: sha256), accepting: [404]))
        }
    }

    /// ListObjectsV2, a thousand keys a page.
    public func forEachBlob(_ visit: (String) async throws -> Void) async throws {
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", self.configuration.blobKeyPrefix)]
            if let token { query.append(("continuation-token", token)) }
            let page = try await self.failingAsUnavailable("list blobs") {
                let response = try await self.client.send(S3Client.Call(method: .GET, key: nil, query: query))
                return String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
            }
            for entry in S3XML.elements("Contents", in: page[...]) {
                guard let key = S3XML.text("Key", in: entry), let name = key.split(separator: "/").last,
                    name.utf8.count == 64, name.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
                else { continue }
                try await visit(String(name))
            }
            token = S3XML.text("IsTruncated", in: page[...]) == "true" ? S3XML.text("NextContinuationToken", in: page[...]) : nil
        } while token != nil
    }

    /// Spooled files older than `age`, and multipart uploads under the prefix started before then.
    public func removeStaleUploads(olderThan age: Duration) async throws -> Int {
        var removed = try await self.spool.removeStale(olderThan: age)
        for upload in try await self.multipartUploads(startedBefore: age) {
            await self.writer.abortMultipart(key: upload.key, uploadID: upload.uploadID)
            removed += 1
        }
        return removed
    }

    public func staleUploads(olderThan age: Duration) async throws -> [StaleUpload] {
        try await self.spool.stale(olderThan: age, removing: false)
            + self.multipartUploads(startedBefore: age).map {
                StaleUpload(location: "multipart upload \($0.uploadID) of \($0.key)", modified: $0.initiated)
            }
    }

    /// ListMultipartUploads under the prefix, every page, keeping those started `age` ago or earlier.
    private func multipartUploads(startedBefore age: Duration) async throws -> [(key: String, uploadID: String, initiated: Int64)] {
        let cutoff = AmzDate(secondsSince1970: Int64(time(nil)) - age.components.seconds)
        var found: [(key: String, uploadID: String, initiated: Int64)] = []
        var markers: (key: String, upload: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", self.configuration.blobKeyPrefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.upload)] }
            let page = try await self.failingAsUnavailable("list multipart uploads") {
                let response = try await self.client.send(S3Client.Call(method: .GET, key: nil, query: query))
                return String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
            }
            found += Self.uploads(in: page, startedBefore: cutoff)
            markers =
                S3XML.text("IsTruncated", in: page[...]) == "true"
                ? (S3XML.text("NextKeyMarker", in: page[...]) ?? "", S3XML.text("NextUploadIdMarker", in: page[...]) ?? "") : nil
        } while markers != nil
        return found
    }

    /// The object's Last-Modified (a HEAD).
    public func lastModified(ofSHA256 sha256: String) async throws -> Int64? {
        try await self.failingAsUnavailable("look up \(sha256)") {
            let key = self.configuration.key(forSHA256: sha256)
            let response = try await self.client.send(S3Client.Call(method: .HEAD, key: key, accepting: [404]))
            guard response.status != .notFound else { return nil }
            guard let header = response.headers.first(name: "last-modified"), let date = HTTPDate.secondsSince1970(header) else {
                throw S3Failure.refused(status: Int(response.status.code), code: "NoLastModified", message: "no Last-Modified date for \(key)")
            }
            return date
        }
    }

    /// Only the spooled files, which are this instance's own.
    public func removeDeadTemporaryFiles(olderThan age: Duration) async throws -> Int {
        try await self.spool.removeStale(olderThan: age)
    }

    /// The multipart uploads of a ListMultipartUploads page started before `cutoff`, with when.
    static func uploads(in page: String, startedBefore cutoff: AmzDate) -> [(key: String, uploadID: String, initiated: Int64)] {
        S3XML.elements("Upload", in: page[...]).compactMap { upload in
            guard let key = S3XML.text("Key", in: upload), let id = S3XML.text("UploadId", in: upload),
                let initiated = S3XML.text("Initiated", in: upload), Self.isoCompact(initiated) < cutoff.timestamp
            else { return nil }
            return (key, id, AmzDate(timestamp: Self.isoCompact(initiated))?.secondsSince1970 ?? 0)
        }
    }

    /// `2026-12-02T19:05:25.000Z` as `20261202T190525Z`, comparable with `AmzDate.timestamp`.
    static func isoCompact(_ iso: String) -> String {
        let digits = iso.prefix(19).filter(\.isNumber)
        return digits.count == 14 ? "\(digits.prefix(8))T\(digits.suffix(6))Z" : iso
    }

    /// One listing of at most one key under the prefix: proves the endpoint answers, the bucket
    /// exists and the credentials are good, with S3's error code when not.
    public func checkAccess() async throws {
        do {
            let response = try await self.client.send(
                S3Client.Call(method: .GET, key: nil, query: [("list-type", "2"), ("max-keys", "1"), ("prefix", self.configuration.blobKeyPrefix)])
            )
            _ = try await response.body.collect(upTo: 1024 * 1024)
        } catch let failure as S3Failure {
            throw BlobStoreAccessError(
                store: self.configuration.storeDescription,
                endpoint: self.configuration.endpoint,
                reason: failure.description
            )
        }
    }

    /// Every failure of the bucket but a missing blob is a 503 for the client (worth retrying);
    /// the operator gets the reason in the log.
    private func failingAsUnavailable<T: Sendable>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error where error is BlobStoreError || error is RegistryError || error is CancellationError {
            throw error
        } catch {
            // An S3 error answer, or a body that broke off or overflowed after its head.
            self.logger.error(
                "the blob store failed",
                metadata: ["operation": "\(operation)", "store": "\(self.configuration.storeDescription)", "error": "\(error)"]
            )
            throw RegistryError.unavailable("the blob store did not answer")
        }
    }
}

/// `serve`'s one line when the bucket cannot be used.
public struct BlobStoreAccessError: Error, CustomStringConvertible {
    public let store: String
    public let endpoint: String
    public let reason: String

    public var description: String { "cannot use blob store \(self.store) at \(self.endpoint): \(self.reason)" }
}

/// The iterator of one GET's body, consumed by one download at a time.
private final class ResponseCursor: @unchecked Sendable {
    private var iterator: S3BodyStream.Chunks.AsyncIterator
    private let expected: Int64
    private var received: Int64 = 0
    private var finished = false

    init(_ iterator: S3BodyStream.Chunks.AsyncIterator, expected: Int64) {
        self.iterator = iterator
        self.expected = expected
    }

    /// The next `size` bytes or more (less at the end), nil after the last; a body shorter than
    /// the range asked for is an error, never a short answer.
    func nextChunk(gathering size: Int) async throws -> ByteBuffer? {
        var gathered: ByteBuffer?
        while !self.finished {
            guard var chunk = try await self.iterator.next() else {
                self.finished = true
                guard self.received == self.expected else {
                    throw S3Failure.refused(status: 206, code: "ShortRead", message: "the store sent \(self.received) of \(self.expected) bytes")
                }
                break
            }
            self.received += Int64(chunk.readableBytes)
            if self.received > self.expected {
                throw S3Failure.refused(status: 200, code: "LongRead", message: "the store sent more than the \(self.expected) bytes asked for")
            }
            if gathered == nil {
                if chunk.readableBytes >= size { return chunk }
                gathered = ByteBufferAllocator().buffer(capacity: size + 64 * 1024)
            }
            gathered!.writeBuffer(&chunk)
            if gathered!.readableBytes >= size { break }
        }
        return gathered
    }
}
