import Foundation
import NIOCore
import TestSupport
import Testing

@testable import Registry

/// `wheelhouse blobs copy`'s work: every referenced blob reaches the other store verified; a second
/// run skips them all; a damaged copy is copied again; a blob missing from the source is a failure.
@Suite(.enabled(if: TestS3.isConfigured, "needs the S3 server scripts/test starts (WHEELHOUSE_TEST_S3_*)"))
struct BlobCopierTests {
    @Test func copiesVerifiesAndResumes() async throws {
        try await TemporaryRegistry.with(onSQLite: true) { registry in
            _ = try await registry.admin.createGroup(fullPath: "acme", visibility: .private)
            let project = try await registry.admin.createProject(fullPath: "acme/lib", visibility: .private)
            for (name, size) in [("one", 3000), ("two", 20_000)] {
                let request = UploadRequest(fileName: "\(name)-1.0.tar.gz", name: name, version: "1.0", requiresPython: nil)
                let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ name.count) }
                _ = try await registry.services.publisher.publish(
                    request,
                    upload: try await registry.upload(bytes),
                    to: project,
                    author: .commandLine()
                )
            }
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: registry.directory) { bucket in
                let copier = BlobCopier(store: registry.store, from: registry.blobs, to: bucket)
                let first = try await copier.run { _, _ in }
                #expect(first.copied == 2 && first.skipped == 0 && first.failed == 0)
                let again = try await copier.run { _, _ in }
                #expect(again.copied == 0 && again.skipped == 2 && again.failed == 0)

                // A damaged copy (same size, other bytes) does not verify, so it is copied again.
                let blobs = try await registry.store.referencedBlobs(after: "", limit: 10)
                let damaged = blobs[0]
                let other = try await bucket.stage([UInt8](repeating: 7, count: Int(damaged.size)))
                try await bucket.writer.write(
                    key: bucket.configuration.key(forSHA256: damaged.sha256),
                    from: other.0.path,
                    size: damaged.size,
                    sha256: other.1.sha256
                )
                other.0.discard()
                let repaired = try await copier.run { _, _ in }
                #expect(repaired.copied == 1 && repaired.skipped == 1)
                #expect(try await BlobCopier.digest(of: damaged, in: bucket) == damaged.sha256)

                // Back the other way, after losing a blob on the local side.
                try await registry.blobs.remove(sha256: blobs[1].sha256)
                let back = try await BlobCopier(store: registry.store, from: bucket, to: registry.blobs).run { _, _ in }
                #expect(back.copied == 1 && back.skipped == 1 && back.failed == 0)

                // A blob missing from the source is reported, not skipped silently.
                try await bucket.remove(sha256: blobs[1].sha256)
                try await registry.blobs.remove(sha256: blobs[1].sha256)
                let missing = try await BlobCopier(store: registry.store, from: bucket, to: registry.blobs).run { _, _ in }
                #expect(missing.failed == 1)
            }
        }
    }
}
