import NIOCore
import TestSupport
import Testing

@testable import Registry

/// `LocalBlobStore` through the `BlobStore` protocol: what the upload and download code relies on,
/// so that another store can be held to the same.
@Suite struct BlobStoreTests {
    @Test func uploadCommitReadSizeListAndRemove() async throws {
        try await TemporaryRegistry.with(onSQLite: true) { registry in
            let blobs: any BlobStore = registry.blobs
            let upload = try await registry.upload(Array("hello, blob".utf8))
            let digests = try await upload.finish()
            #expect(try await blobs.size(ofSHA256: digests.sha256) == nil)
            try await blobs.commit(upload, sha256: digests.sha256)

            #expect(try await blobs.size(ofSHA256: digests.sha256) == 11)
            #expect(String(buffer: try await blobs.read(sha256: digests.sha256, range: 7...10)) == "blob")
            #expect(blobs.localPath(forSHA256: digests.sha256) == registry.blobs.path(forSHA256: digests.sha256))

            let (staged, reference) = try await blobs.stage(Array("metadata".utf8))
            try await blobs.commit(staged, sha256: reference.sha256)
            var listed: [String] = []
            try await blobs.forEachBlob { listed.append($0) }
            #expect(listed.sorted() == [digests.sha256, reference.sha256].sorted())
            // Temporary files are not blobs.
            _ = try await registry.upload([1, 2, 3])
            listed = []
            try await blobs.forEachBlob { listed.append($0) }
            #expect(listed.count == 2)

            try await blobs.remove(sha256: digests.sha256)
            try await blobs.remove(sha256: digests.sha256)
            #expect(try await blobs.size(ofSHA256: digests.sha256) == nil)
            await #expect(throws: FileSystemError.self) { try await blobs.read(sha256: digests.sha256, range: 0...1) }
        }
    }
}
