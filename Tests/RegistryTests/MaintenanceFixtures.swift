import Foundation
import TestSupport

@testable import Registry

/// A registry with a wheel (a file and its metadata blob) and an sdist, for the maintenance tests.
struct MaintenanceFixture {
    let registry: TemporaryRegistry
    let wheel: BlobReference
    let metadata: BlobReference
    let sdist: BlobReference

    static func make(_ registry: TemporaryRegistry) async throws -> MaintenanceFixture {
        _ = try await registry.admin.createGroup(fullPath: "acme", visibility: .private)
        let project = try await registry.admin.createProject(fullPath: "acme/tools", visibility: .private)
        let wheelBytes = try TestDistributions.wheel(name: "demo", version: "1.0", payload: Array(repeating: 7, count: 50_000))
        let wheelRequest = UploadRequest(fileName: "demo-1.0-py3-none-any.whl", name: "demo", version: "1.0", requiresPython: nil)
        _ = try await registry.services.publisher.publish(
            wheelRequest,
            upload: try await registry.upload(wheelBytes),
            to: project,
            author: .commandLine()
        )
        let sdistBytes = (0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let sdistRequest = UploadRequest(fileName: "demo-1.0.tar.gz", name: "demo", version: "1.0", requiresPython: nil)
        _ = try await registry.services.publisher.publish(
            sdistRequest,
            upload: try await registry.upload(sdistBytes),
            to: project,
            author: .commandLine()
        )
        let wheel = BlobReference(sha256: ContentHash.sha256(wheelBytes), size: Int64(wheelBytes.count))
        let sdist = BlobReference(sha256: ContentHash.sha256(sdistBytes), size: Int64(sdistBytes.count))
        let others = try await registry.store.referencedBlobs(after: "", limit: 10).filter { $0 != wheel && $0 != sdist }
        guard others.count == 1 else { throw FixtureError(description: "expected one metadata blob, found \(others.count)") }
        return MaintenanceFixture(registry: registry, wheel: wheel, metadata: others[0], sdist: sdist)
    }

    func path(_ blob: BlobReference) -> String { self.registry.blobs.path(forSHA256: blob.sha256) }

    /// Replaces the blob's file with `bytes` (a new file: never written through a shared link).
    func rewrite(_ blob: BlobReference, with bytes: [UInt8]) throws {
        try? FileManager.default.removeItem(atPath: self.path(blob))
        try Data(bytes).write(to: URL(fileURLWithPath: self.path(blob)))
    }

    func bytes(_ blob: BlobReference) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: self.path(blob))))
    }

    /// A blob no row refers to, written `age` ago.
    func plantOrphan(_ bytes: [UInt8], age: TimeInterval) throws -> String {
        let sha256 = ContentHash.sha256(bytes)
        let path = self.registry.blobs.path(forSHA256: sha256)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try Self.age(path, by: age)
        return sha256
    }

    static func age(_ path: String, by age: TimeInterval) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
    }

    func check(verifyHashes: Bool) async throws -> IntegrityCheck.Summary {
        try await IntegrityCheck(store: self.registry.store, blobs: self.registry.blobs, verifyHashes: verifyHashes).run { _ in }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}
