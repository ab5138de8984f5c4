import TestSupport
import Testing

@testable import Registry

/// What `blobs copy` walks: every blob a row refers to, once, in pages, and their totals, on both
/// databases (PostgreSQL's SUM is numeric, so the totals are cast).
@Suite struct ReferencedBlobsTests {
    @Test func listsEachReferencedBlobOnceInPagesWithTotals() async throws {
        try await TemporaryRegistry.with { registry in
            #expect(try await registry.store.referencedBlobTotals() == (0, 0))
            _ = try await registry.admin.createGroup(fullPath: "acme", visibility: .private)
            let first = try await registry.admin.createProject(fullPath: "acme/one", visibility: .private)
            let second = try await registry.admin.createProject(fullPath: "acme/two", visibility: .private)
            // The same bytes in two projects are one blob; a wheel brings its metadata blob too.
            for project in [first, second] {
                let request = UploadRequest(fileName: "same-1.0.tar.gz", name: "same", version: "1.0", requiresPython: nil)
                _ = try await registry.services.publisher.publish(
                    request,
                    upload: try await registry.upload([1, 2, 3, 4]),
                    to: project,
                    author: .commandLine()
                )
            }
            let wheel = try TestDistributions.wheel(name: "demo", version: "1.0")
            let request = UploadRequest(fileName: "demo-1.0-py3-none-any.whl", name: "demo", version: "1.0", requiresPython: nil)
            _ = try await registry.services.publisher.publish(request, upload: try await registry.upload(wheel), to: first, author: .commandLine())

            let all = try await registry.store.referencedBlobs(after: "", limit: 10)
            #expect(all.count == 3)
            #expect(all.map(\.sha256) == all.map(\.sha256).sorted())
            let totals = try await registry.store.referencedBlobTotals()
            #expect(totals.count == 3 && totals.bytes == all.map(\.size).reduce(0, +))
            #expect(all.contains { $0.size == 4 } && all.contains { $0.size == Int64(wheel.count) })

            let firstPage = try await registry.store.referencedBlobs(after: "", limit: 2)
            let rest = try await registry.store.referencedBlobs(after: firstPage.last!.sha256, limit: 2)
            #expect((firstPage + rest).map(\.sha256) == all.map(\.sha256))
        }
    }
}
