import Foundation
import TestSupport
import Testing

@testable import Registry

/// `wheelhouse fsck`: every referenced blob is there with its size (and, when asked, its hash);
/// each fault names the project, package and file; unreferenced blobs are listed, not problems.
/// On the test database (SQLite, or PostgreSQL under WHEELHOUSE_TEST_DATABASE=postgres).
@Suite struct MaintenanceIntegrityTests {
    @Test func aSoundRegistryHasNoProblem() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            for verify in [false, true] {
                let summary = try await fixture.check(verifyHashes: verify)
                #expect(summary.problemCount == 0 && summary.unreferenced == 0)
                #expect(summary.line == "checked 2 files, 1 metadata blobs: 0 problems, 0 unreferenced blobs")
            }
        }
    }

    @Test func findsAMissingBlobAndNamesItsFile() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            try await registry.blobs.remove(sha256: fixture.sdist.sha256)
            let summary = try await fixture.check(verifyHashes: false)
            #expect(summary.problemCount == 1)
            #expect(
                summary.problems.flatMap(\.lines) == [
                    "missing blob: project acme/tools, package demo 1.0, file demo-1.0.tar.gz, sha256 \(fixture.sdist.sha256)"
                ]
            )
        }
    }

    @Test func findsAMissingMetadataBlob() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            try await registry.blobs.remove(sha256: fixture.metadata.sha256)
            let lines = try await fixture.check(verifyHashes: false).problems.flatMap(\.lines)
            #expect(
                lines == [
                    "missing metadata blob: project acme/tools, package demo 1.0, file demo-1.0-py3-none-any.whl.metadata, "
                        + "sha256 \(fixture.metadata.sha256)"
                ]
            )
        }
    }

    @Test func aCorruptedBlobIsFoundOnlyByItsHashATruncatedOneByItsSize() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            var bytes = try fixture.bytes(fixture.wheel)
            bytes[bytes.count / 2] ^= 0xFF
            try fixture.rewrite(fixture.wheel, with: bytes)
            #expect(try await fixture.check(verifyHashes: false).problemCount == 0)
            let hashed = try await fixture.check(verifyHashes: true)
            #expect(hashed.problemCount == 1)
            #expect(hashed.problems.first?.fault == .wrongHash(actual: ContentHash.sha256(bytes)))
            #expect(hashed.problems.first?.lines.first?.hasPrefix("wrong hash: project acme/tools, package demo 1.0") == true)

            try fixture.rewrite(fixture.wheel, with: Array(bytes.dropLast(100)))
            let sized = try await fixture.check(verifyHashes: false)
            #expect(sized.problems.map(\.fault) == [.wrongSize(stored: fixture.wheel.size - 100, expected: fixture.wheel.size)])
        }
    }

    @Test func listsUnreferencedBlobsWithoutCountingThemAsProblems() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            let orphan = try fixture.plantOrphan([1, 2, 3], age: 0)
            let listed = LockedList()
            let summary = try await IntegrityCheck(store: registry.store, blobs: registry.blobs, verifyHashes: true).run { event in
                if case .unreferenced(let sha256) = event { listed.append(sha256) }
            }
            #expect(summary.problemCount == 0 && summary.unreferenced == 1)
            #expect(listed.items == [orphan])
        }
    }
}

/// Strings gathered from a `@Sendable` callback.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ item: String) { self.lock.withLock { self.stored.append(item) } }
    var items: [String] { self.lock.withLock { self.stored } }
}
