import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `wheelhouse gc`: removes blobs no row refers to, and what uploads cut off by a crash left
/// (temporary files, unfinished multipart uploads), while the registry serves.
///
/// A blob is removed only when it is older than `minimumAge` and, looked at again under the blob
/// lock right before it goes, still unreferenced: uploads record their rows under that lock (their
/// blobs are placed in the same transaction), so none can come to refer to a blob between the look
/// and the removal. The age is for a bucket, where a new file's blob is sent before its row commits
/// (it would be sent again if removed, but there is no point), and for what the listing saw mid-upload.
public struct GarbageCollector: Sendable {
    public enum Event: Sendable {
        /// Removed (or, on a dry run, would be).
        case blob(sha256: String)
        /// Unreferenced but younger than the minimum age (or of unknown age): kept.
        case young(sha256: String)
        case staleUpload(StaleUpload)
    }

    public struct Summary: Sendable {
        public var blobsRemoved = 0
        public var blobsKeptYoung = 0
        public var staleUploadsRemoved = 0
        /// Unreferenced when listed, referenced again under the lock (an upload of the same bytes).
        public var blobsReferencedAgain = 0
    }

    /// Temporary files and multipart uploads go only once this old, whatever `minimumAge` says:
    /// unlike a blob (placed under the lock), they belong to uploads in progress in other
    /// processes, and a finished upload's spooled file may sit untouched while it is sent to a
    /// bucket. An hour is what `serve` waits at start-up too.
    public static let shortestStaleUploadAge = Duration.seconds(3600)

    let store: MetadataStore
    let blobs: any BlobStore
    let minimumAge: Duration
    let dryRun: Bool

    public init(store: MetadataStore, blobs: any BlobStore, minimumAge: Duration, dryRun: Bool) {
        self.store = store
        self.blobs = blobs
        self.minimumAge = minimumAge
        self.dryRun = dryRun
    }

    public func run(report: @escaping @Sendable (Event) -> Void) async throws -> Summary {
        let summary = NIOLockedValueBox(Summary())
        let cutoff = Int64(time(nil)) - self.minimumAge.components.seconds
        try await UnreferencedBlobs(store: self.store, blobs: self.blobs).forEachPage { candidates in
            var old: [String] = []
            for sha256 in candidates {
                if let modified = try await self.blobs.lastModified(ofSHA256: sha256), modified <= cutoff {
                    old.append(sha256)
                } else {
                    report(.young(sha256: sha256))
                    summary.withLockedValue { $0.blobsKeptYoung += 1 }
                }
            }
            if self.dryRun {
                for sha256 in old { report(.blob(sha256: sha256)) }
                summary.withLockedValue { $0.blobsRemoved += old.count }
                return
            }
            let removed = NIOLockedValueBox(0)
            let blobs = self.blobs
            try await self.store.removeUnreferencedBlobs(old) { sha256 in
                try await blobs.remove(sha256: sha256)
                removed.withLockedValue { $0 += 1 }
                report(.blob(sha256: sha256))
            }
            let count = removed.withLockedValue { $0 }
            summary.withLockedValue {
                $0.blobsRemoved += count
                $0.blobsReferencedAgain += old.count - count
            }
        }
        let uploadAge = max(self.minimumAge, Self.shortestStaleUploadAge)
        let stale = try await self.blobs.staleUploads(olderThan: uploadAge)
        for upload in stale { report(.staleUpload(upload)) }
        let swept = self.dryRun ? stale.count : try await self.blobs.removeStaleUploads(olderThan: uploadAge)
        summary.withLockedValue { $0.staleUploadsRemoved = swept }
        return summary.withLockedValue { $0 }
    }
}
