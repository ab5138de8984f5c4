import CoreMetrics
import NIOCore

/// A blob store that counts its failures (`wheelhouse_blob_store_errors_total`) and otherwise is
/// the store it wraps. Its callers turn most failures into a 503 where they happen, so counting
/// them here, once, is the only place that sees them all. A missing blob is an answer (404), not a
/// failure, and a cancelled request is the client's doing: neither is counted.
///
/// Every requirement is forwarded, the defaulted ones too: the protocol's defaults must never
/// stand in for the wrapped store's own (S3's `transfer` is real work).
public struct CountingBlobStore: BlobStore {
    public let base: any BlobStore
    private let errors: Counter

    public init(_ base: any BlobStore, errors: Counter) {
        self.base = base
        self.errors = errors
    }

    private func counting<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            if !(error is CancellationError), !BlobStoreError.isNotFound(error) { self.errors.increment() }
            throw error
        }
    }

    public func makeUpload() async throws -> BlobUpload { try await self.counting { try await self.base.makeUpload() } }

    public func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference) {
        try await self.counting { try await self.base.stage(bytes) }
    }

    public func transfer(_ upload: BlobUpload, sha256: String) async throws {
        try await self.counting { try await self.base.transfer(upload, sha256: sha256) }
    }

    public func commit(_ upload: BlobUpload, sha256: String) async throws {
        try await self.counting { try await self.base.commit(upload, sha256: sha256) }
    }

    public func size(ofSHA256 sha256: String) async throws -> Int64? {
        try await self.counting { try await self.base.size(ofSHA256: sha256) }
    }

    public func read(sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer {
        try await self.counting { try await self.base.read(sha256: sha256, range: range) }
    }

    public func chunks(sha256: String, range: ClosedRange<Int64>) async throws -> BlobChunks {
        try await self.counting { try await self.base.chunks(sha256: sha256, range: range) }
    }

    public func localPath(forSHA256 sha256: String) -> String? { self.base.localPath(forSHA256: sha256) }

    public func downloadURL(forSHA256 sha256: String, fileName: String) -> String? {
        self.base.downloadURL(forSHA256: sha256, fileName: fileName)
    }

    public func remove(sha256: String) async throws { try await self.counting { try await self.base.remove(sha256: sha256) } }

    public func forEachBlob(_ visit: (String) async throws -> Void) async throws {
        try await self.counting { try await self.base.forEachBlob(visit) }
    }

    public func removeStaleUploads(olderThan age: Duration) async throws -> Int {
        try await self.counting { try await self.base.removeStaleUploads(olderThan: age) }
    }

    public func staleUploads(olderThan age: Duration) async throws -> [StaleUpload] {
        try await self.counting { try await self.base.staleUploads(olderThan: age) }
    }

    public func lastModified(ofSHA256 sha256: String) async throws -> Int64? {
        try await self.counting { try await self.base.lastModified(ofSHA256: sha256) }
    }

    public func removeDeadTemporaryFiles(olderThan age: Duration) async throws -> Int {
        try await self.counting { try await self.base.removeDeadTemporaryFiles(olderThan: age) }
    }

    public func checkAccess() async throws { try await self.counting { try await self.base.checkAccess() } }

    public func shutdown() async throws { try await self.base.shutdown() }
}
