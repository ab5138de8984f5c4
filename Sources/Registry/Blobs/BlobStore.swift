import NIOCore

/// Where package files and their core metadata live, each under the sha256 of its bytes.
///
/// Uploads and downloads go through this protocol only, so that another store (object storage)
/// is one more conformance, not a change to them. A new blob is written to a `BlobUpload` while it
/// streams in (hashed on the way), then committed under its sha256 once its row may be recorded.
public protocol BlobStore: Sendable {
    /// Starts writing new content to a private temporary file.
    func makeUpload() async throws -> BlobUpload

    /// Stages small content held in memory: written and flushed, ready to `commit`.
    func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference)

    /// Places a finished upload under its sha256, durably. Content already present is replaced by
    /// identical bytes.
    func commit(_ upload: BlobUpload, sha256: String) async throws

    /// The size of the stored blob, or nil when there is none.
    func size(ofSHA256 sha256: String) async throws -> Int64?

    /// Reads `range` of a blob at once (throws `FileSystemError` with `isNotFound` when it is gone).
    func read(sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer

    /// The blob's file on a local file system, for sending it with sendfile; nil for a store whose
    /// blobs are not local files.
    func localPath(forSHA256 sha256: String) -> String?

    /// Deletes a blob; a missing one is not an error.
    func remove(sha256: String) async throws

    /// Calls `visit` with the sha256 of every stored blob, in no particular order, one directory
    /// at a time (memory stays bounded however many there are): for garbage collection and checks.
    func forEachBlob(_ visit: (String) async throws -> Void) async throws

    /// Removes temporary files of uploads interrupted by a crash, once they are `age` old (younger
    /// ones may be another instance's upload in progress); returns how many went.
    func removeStaleUploads(olderThan age: Duration) throws -> Int
}
