import Foundation
import TestSupport
import Testing

@testable import Registry

/// `wheelhouse gc`: referenced blobs stay, young unreferenced ones stay, old unreferenced ones go
/// (not on a dry run), and so do hour-old temporary files of dead uploads.
@Suite struct MaintenanceGarbageTests {
    @Test func removesOnlyOldUnreferencedBlobs() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            // Referenced blobs, however old, stay.
            for blob in [fixture.wheel, fixture.sdist, fixture.metadata] { try MaintenanceFixture.age(fixture.path(blob), by: 86_400) }
            let young = try fixture.plantOrphan([1, 2, 3], age: 60)
            let old = try fixture.plantOrphan([4, 5, 6], age: 7200)
            let stale = registry.directory + "/blobs/tmp/upload-crashed"
            try Data([9]).write(to: URL(fileURLWithPath: stale))
            try MaintenanceFixture.age(stale, by: 3 * 86_400)
            let live = registry.directory + "/blobs/tmp/upload-in-progress"
            try Data([9]).write(to: URL(fileURLWithPath: live))

            let dry = try await self.collect(registry, minimumAge: .seconds(3600), dryRun: true)
            #expect(dry.summary.blobsRemoved == 1 && dry.summary.blobsKeptYoung == 1 && dry.summary.staleUploadsRemoved == 1)
            #expect(dry.removed == [old])
            #expect(FileManager.default.fileExists(atPath: registry.blobs.path(forSHA256: old)) && FileManager.default.fileExists(atPath: stale))

            let real = try await self.collect(registry, minimumAge: .seconds(3600), dryRun: false)
            #expect(real.removed == [old] && real.summary.blobsKeptYoung == 1 && real.summary.staleUploadsRemoved == 1)
            #expect(!FileManager.default.fileExists(atPath: registry.blobs.path(forSHA256: old)))
            #expect(FileManager.default.fileExists(atPath: registry.blobs.path(forSHA256: young)))
            #expect(!FileManager.default.fileExists(atPath: stale) && FileManager.default.fileExists(atPath: live))

            let all = try await self.collect(registry, minimumAge: .zero, dryRun: false)
            #expect(all.removed == [young])
            // What rows refer to is all that is left, and it is whole.
            let check = try await fixture.check(verifyHashes: true)
            #expect(check.problemCount == 0 && check.unreferenced == 0)
            #expect(FileManager.default.fileExists(atPath: live), "a temporary file younger than an hour went")
        }
    }

    /// An old orphan with the bytes of a new upload: once the upload's row commits (under the
    /// blob lock) the blob is referenced again, and gc, looking under the same lock, keeps it.
    @Test func keepsAnOrphanThatAnUploadReferencesAgain() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let orphan = try fixture.plantOrphan(bytes, age: 7200)
            let project = try #require(try await registry.store.project(fullPath: "acme/tools"))
            let request = UploadRequest(fileName: "again-1.0.tar.gz", name: "again", version: "1.0", requiresPython: nil)
            _ = try await registry.services.publisher.publish(request, upload: try await registry.upload(bytes), to: project, author: .commandLine())
            let run = try await self.collect(registry, minimumAge: .zero, dryRun: false)
            #expect(run.removed.isEmpty)
            #expect(FileManager.default.fileExists(atPath: registry.blobs.path(forSHA256: orphan)))
            #expect(try await fixture.check(verifyHashes: true).problemCount == 0)
        }
    }

    private func collect(
        _ registry: TemporaryRegistry,
        minimumAge: Duration,
        dryRun: Bool
    ) async throws -> (summary: GarbageCollector.Summary, removed: [String]) {
        let removed = LockedList()
        let summary = try await GarbageCollector(store: registry.store, blobs: registry.blobs, minimumAge: minimumAge, dryRun: dryRun).run {
            if case .blob(let sha256) = $0 { removed.append(sha256) }
        }
        return (summary, removed.items)
    }
}
