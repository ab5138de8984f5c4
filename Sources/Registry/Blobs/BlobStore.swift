import NIOCore

/// Where package files and their core metadata live, each under the sha256 of its bytes.
///
/// Uploads and downloads go through this protocol only, so that each store (a local directory,
/// an S3 bucket) is one conformance, not a change to them. A new blob is written to a `BlobUpload`
/// (a local temporary file) while it streams in and is hashed; once its sha256 is known it is
/// `transfer`red to the store, then `commit`ted under the blob lock in the transaction of its row.
public protocol BlobStore: Sendable {
    /// Starts writing new content to a private temporary file.
    func makeUpload() async throws -> BlobUpload

    /// Stages small content held in memory: written and flushed, ready to `commit`.
    func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference)

    /// Sends a finished upload to where the store keeps blobs, before any lock is taken: the slow
    /// part of a commit for a remote store. Content already there is not sent again.
    func transfer(_ upload: BlobUpload, sha256: String) async throws

    /// Makes sure the finished upload is stored under its sha256, durably, before its row commits
    /// (the caller holds the blob lock, so no deletion runs meanwhile). Content already present is
    /// kept or replaced by identical bytes. After it the upload's temporary file is gone.
    func commit(_ upload: BlobUpload, sha256: String) async throws

    /// The size of the stored blob, or nil when there is none.
    func size(ofSHA256 sha256: String) async throws -> Int64?

    /// Reads `range` of a blob at once (throws an error `BlobStoreError.isNotFound` knows when it is gone).
    func read(sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer

    /// `range` of a blob as a stream of chunks read as the consumer asks for them (memory stays
    /// bounded, and a slow reader slows the reading). A missing blob throws here, before any chunk.
    func chunks(sha256: String, range: ClosedRange<Int64>) async throws -> BlobChunks

    /// The blob's file on a local file system, for sending it with sendfile; nil for a store whose
    /// blobs are not local files.
    func localPath(forSHA256 sha256: String) -> String?

    /// Where a client may fetch the blob itself (a presigned URL), or nil when downloads go
    /// through this server.
    func downloadURL(forSHA256 sha256: String, fileName: String) -> String?

    /// Deletes a blob; a missing one is not an error.
    func remove(sha256: String) async throws

    /// Calls `visit` with the sha256 of every stored blob, in no particular order, a batch at a
    /// time (memory stays bounded however many there are): for garbage collection and checks.
    func forEachBlob(_ visit: (String) async throws -> Void) async throws

    /// Removes what uploads cut off by a crash left (temporary files, unfinished multipart
    /// uploads) once it is `age` old (younger may be another instance's upload in progress);
    /// returns how many went.
    func removeStaleUploads(olderThan age: Duration) async throws -> Int

    /// What `removeStaleUploads(olderThan:)` would remove now, without removing it: what
    /// `wheelhouse gc` prints before it sweeps (and all it does with `--dry-run`).
    func staleUploads(olderThan age: Duration) async throws -> [StaleUpload]

    /// When the blob was last written, in seconds since 1970, or nil when there is none. `gc`
    /// leaves unreferenced blobs younger than its minimum age alone: in a bucket a new file's blob
    /// is sent before its row commits, so a young one may be about to be referenced.
    func lastModified(ofSHA256 sha256: String) async throws -> Int64?

    /// Removes temporary files of uploads not written for `age`, while the server runs: an
    /// upload's client that sends nothing for longer than the body deadline is cut off, so such a
    /// file is dead. Unlike `removeStaleUploads` it leaves the bucket's multipart uploads alone:
    /// another instance may be sending one from a file long finished.
    func removeDeadTemporaryFiles(olderThan age: Duration) async throws -> Int

    /// Checks at start-up that the store can be used (a bucket that answers to these credentials);
    /// throws an error whose description is one line for the operator.
    func checkAccess() async throws

    /// Releases connections; the store is not used afterwards.
    func shutdown() async throws
}

extension BlobStore {
    public func transfer(_ upload: BlobUpload, sha256: String) async throws {}

    /// A store that cannot tell lists nothing: `gc` then only reports the count it removed.
    public func staleUploads(olderThan age: Duration) async throws -> [StaleUpload] { [] }

    /// A store that cannot tell a blob's age has none old enough for `gc` to remove.
    public func lastModified(ofSHA256 sha256: String) async throws -> Int64? { nil }

    public func downloadURL(forSHA256 sha256: String, fileName: String) -> String? { nil }

    public func checkAccess() async throws {}

    public func shutdown() async throws {}

    /// Reads `chunkSize` bytes at a time with `read`.
    public func chunks(sha256: String, range: ClosedRange<Int64>) async throws -> BlobChunks {
        let chunkSize: Int64 = 1024 * 1024
        let first = range.lowerBound...min(range.upperBound, range.lowerBound + chunkSize - 1)
        let head = try await self.read(sha256: sha256, range: first)
        let state = ChunkCursor(head: head, next: first.upperBound + 1)
        return BlobChunks {
            if let head = state.takeHead() { return head }
            guard let offset = state.nextOffset(upTo: range.upperBound, chunkSize: chunkSize) else { return nil }
            return try await self.read(sha256: sha256, range: offset)
        }
    }
}

/// A blob's bytes, chunk by chunk; iterated once.
public struct BlobChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    private let next: @Sendable () async throws -> ByteBuffer?

    public init(next: @escaping @Sendable () async throws -> ByteBuffer?) {
        self.next = next
    }

    public func makeAsyncIterator() -> Iterator { Iterator(next: self.next) }

    public struct Iterator: AsyncIteratorProtocol {
        let next: @Sendable () async throws -> ByteBuffer?
        public mutating func next() async throws -> ByteBuffer? { try await self.next() }
    }
}

/// Where the default `chunks` is in its range; used by one consumer at a time.
private final class ChunkCursor: @unchecked Sendable {
    private var head: ByteBuffer?
    private var next: Int64

    init(head: ByteBuffer, next: Int64) {
        self.head = head
        self.next = next
    }

    func takeHead() -> ByteBuffer? {
        defer { self.head = nil }
        return self.head
    }

    func nextOffset(upTo last: Int64, chunkSize: Int64) -> ClosedRange<Int64>? {
        guard self.next <= last else { return nil }
        let range = self.next...min(last, self.next + chunkSize - 1)
        self.next = range.upperBound + 1
        return range
    }
}

/// One leftover of an upload cut off by a crash: a temporary file, or a bucket's unfinished
/// multipart upload.
public struct StaleUpload: Sendable, Equatable, CustomStringConvertible {
    /// Where it is: the temporary file's path, or `multipart upload ID of KEY`.
    public var location: String
    /// When it was last written (seconds since 1970).
    public var modified: Int64

    public init(location: String, modified: Int64) {
        self.location = location
        self.modified = modified
    }

    public var description: String { self.location }
}
