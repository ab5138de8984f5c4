import Crypto
import NIOCore
import PythonPackaging

/// Copies every blob the database refers to from one store to another (`wheelhouse blobs copy`),
/// verifying each: the bytes read from the source must hash to the blob's sha256, and so must the
/// bytes read back from the destination. A blob already at the destination whose bytes verify is
/// skipped, so a copy that stopped half-way resumes where it was. The database is only read: the
/// registry keeps serving meanwhile.
public struct BlobCopier: Sendable {
    public struct Progress: Sendable {
        public var copied = 0
        public var skipped = 0
        public var failed = 0
        public var bytesCopied: Int64 = 0
        /// Bytes of blobs done, copied or not: what a progress bar counts.
        public var bytesDone: Int64 = 0
        public var blobsDone: Int { self.copied + self.skipped + self.failed }
    }

    /// One blob that could not be copied, and why.
    public struct Failure: Sendable {
        public var sha256: String
        public var reason: String
    }

    let store: MetadataStore
    let source: any BlobStore
    let destination: any BlobStore
    /// Blobs copied at the same time.
    let concurrency: Int

    public init(store: MetadataStore, from source: any BlobStore, to destination: any BlobStore, concurrency: Int = 4) {
        self.store = store
        self.source = source
        self.destination = destination
        self.concurrency = concurrency
    }

    /// Copies them all; `report` is called after each blob with the running totals (and the failure, if any).
    public func run(report: @escaping @Sendable (Progress, Failure?) -> Void) async throws -> Progress {
        var progress = Progress()
        try await self.store.forEachReferencedBlob(concurrency: self.concurrency, { blob in await self.copy(blob) }) { blob, outcome in
            progress.bytesDone += blob.size
            var failure: Failure?
            switch outcome {
            case .copied:
                progress.copied += 1
                progress.bytesCopied += blob.size
            case .skipped: progress.skipped += 1
            case .failed(let reason):
                progress.failed += 1
                failure = Failure(sha256: blob.sha256, reason: reason)
            }
            report(progress, failure)
        }
        return progress
    }

    enum Outcome: Sendable {
        case copied, skipped
        case failed(String)
    }

    func copy(_ blob: BlobReference) async -> Outcome {
        do {
            if let present = try await self.destination.size(ofSHA256: blob.sha256) {
                if present == blob.size, try await Self.digest(of: blob, in: self.destination) == blob.sha256 { return .skipped }
                // A damaged copy goes first: a store keeps content already under the sha256.
                try await self.destination.remove(sha256: blob.sha256)
            }
            let upload = try await self.destination.makeUpload()
            defer { upload.discard() }
            if blob.size > 0 {
                for try await chunk in try await self.source.chunks(sha256: blob.sha256, range: 0...(blob.size - 1)) {
                    try await upload.append(chunk)
                }
            }
            let digests = try await upload.finish()
            guard digests.sha256 == blob.sha256, upload.size == blob.size else {
                return .failed("the source's bytes hash to \(digests.sha256) (\(upload.size) bytes), not to their name")
            }
            try await self.destination.transfer(upload, sha256: blob.sha256)
            try await self.destination.commit(upload, sha256: blob.sha256)
            let written = try await Self.digest(of: blob, in: self.destination)
            guard written == blob.sha256 else { return .failed("the copy reads back as \(written)") }
            return .copied
        } catch  where BlobStoreError.isNotFound(error) {
            return .failed("missing from the source")
        } catch {
            return .failed("\(error)")
        }
    }

    /// The sha256 of the stored bytes, read as a stream.
    static func digest(of blob: BlobReference, in store: any BlobStore) async throws -> String {
        var hash = SHA256()
        if blob.size > 0 {
            for try await chunk in try await store.chunks(sha256: blob.sha256, range: 0...(blob.size - 1)) {
                chunk.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
            }
        }
        return Hex.encode(hash.finalize())
    }
}
