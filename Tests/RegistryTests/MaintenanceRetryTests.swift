import Foundation
import Logging
import NIOCore
import TestSupport
import Testing

@testable import Registry

/// A deletion between the backup's snapshot and its copy of the blobs takes a blob the snapshot
/// needs: the backup starts again from a new snapshot, which no longer has that file.
@Suite struct MaintenanceRetryTests {
    @Test func aBlobDeletedAfterTheSnapshotMakesTheBackupStartAgain() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            let project = try #require(try await registry.store.project(fullPath: "acme/tools"))
            let keep = UploadRequest(fileName: "keep-1.0.tar.gz", name: "keep", version: "1.0", requiresPython: nil)
            _ = try await registry.services.publisher.publish(
                keep,
                upload: try await registry.upload([1, 2, 3, 4]),
                to: project,
                author: .commandLine()
            )
            let demo = try await registry.store.packages(in: [project.id], name: "demo", order: .init(), page: .init(page: 1, perPage: 5))
            let store = DeletingOnFirstRead(base: registry.blobs, sha256: fixture.sdist.sha256) {
                try await registry.services.maintenance.deletePackage(demo.items[0], author: .commandLine())
            }
            let destination = registry.directory + "/backup"
            let summary = try await RegistryBackup(
                database: registry.database,
                blobs: store,
                destination: destination,
                wheelhouseVersion: "test",
                logger: Logger(label: "test")
            ).run()
            #expect(summary.attempts == 2)
            #expect(summary.manifest?.blobs.map(\.sha256) == [ContentHash.sha256([1, 2, 3, 4])])
            let restored = try await RegistryRestore(
                source: destination,
                destination: registry.directory + "/restored",
                logger: Logger(label: "test")
            )
            .run()
            #expect(restored.blobs == 1 && restored.check?.problemCount == 0)
        }
    }
}

/// The registry's local store seen as a remote one (blobs read through `chunks`), which runs
/// `delete` the first time the blob `sha256` is read: a deletion landing mid-backup.
private final class DeletingOnFirstRead: BlobStore, @unchecked Sendable {
    let base: LocalBlobStore
    let sha256: String
    let delete: @Sendable () async throws -> Void
    private var deleted = false

    init(base: LocalBlobStore, sha256: String, delete: @escaping @Sendable () async throws -> Void) {
        self.base = base
        self.sha256 = sha256
        self.delete = delete
    }

    func chunks(sha256: String, range: ClosedRange<Int64>) async throws -> BlobChunks {
        if sha256 == self.sha256 && !self.deleted {
            self.deleted = true
            try await self.delete()
        }
        return try await self.base.chunks(sha256: sha256, range: range)
    }

    func localPath(forSHA256 sha256: String) -> String? { nil }
    func makeUpload() async throws -> BlobUpload { try await self.base.makeUpload() }
    func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference) { try await self.base.stage(bytes) }
    func commit(_ upload: BlobUpload, sha256: String) async throws { try await self.base.commit(upload, sha256: sha256) }
    func size(ofSHA256 sha256: String) async throws -> Int64? { try await self.base.size(ofSHA256: sha256) }
    func read(sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer { try await self.base.read(sha256: sha256, range: range) }
    func remove(sha256: String) async throws { try await self.base.remove(sha256: sha256) }
    func forEachBlob(_ visit: (String) async throws -> Void) async throws { try await self.base.forEachBlob(visit) }
    func removeStaleUploads(olderThan age: Duration) async throws -> Int { try await self.base.removeStaleUploads(olderThan: age) }
    func removeDeadTemporaryFiles(olderThan age: Duration) async throws -> Int { try await self.base.removeDeadTemporaryFiles(olderThan: age) }
}
