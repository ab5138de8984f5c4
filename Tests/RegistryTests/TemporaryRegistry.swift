import Foundation
import Logging
import NIOCore
import TestSupport

@testable import Registry

/// A registry on a fresh temporary data directory, removed afterwards.
struct TemporaryRegistry {
    let directory: String
    let database: MetadataDatabase
    let store: MetadataStore
    let blobs: LocalBlobStore
    let admin: AdminService
    let control: AccessControl
    let services: RegistryServices

    /// Runs `body` on a registry over the test database (see `TestDatabase`), or over SQLite whatever
    /// the test database is when `onSQLite`.
    static func with<Result>(onSQLite: Bool = false, _ body: (TemporaryRegistry) async throws -> Result) async throws -> Result {
        try await TemporaryDirectory.with("wheelhouse-test") { directory in
            let logger = Logger(label: "test")
            let database =
                onSQLite
                ? try await MetadataDatabase.open(.sqlite(path: directory + "/db.sqlite3"), logger: logger)
                : try await TestDatabase.open(directory: directory, logger: logger)
            let store = MetadataStore(database: database)
            let registry: TemporaryRegistry
            do {
                let blobs = try LocalBlobStore(root: directory + "/blobs")
                let services = RegistryServices(store: store, blobs: blobs, logger: logger)
                registry = TemporaryRegistry(
                    directory: directory,
                    database: database,
                    store: store,
                    blobs: blobs,
                    admin: services.admin,
                    control: AccessControl(store: store),
                    services: services
                )
            } catch {
                await database.close()
                throw error
            }
            do {
                let result = try await body(registry)
                await database.close()
                return result
            } catch {
                await database.close()
                throw error
            }
        }
    }

    /// Streams `bytes` into a new upload, in small chunks as the network would.
    func upload(_ bytes: [UInt8]) async throws -> BlobUpload {
        let upload = try await self.blobs.makeUpload()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 1000)
            try await upload.append(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
        }
        return upload
    }

    /// Files anywhere under the data directory's `blobs`, relative paths.
    func blobFiles() throws -> [String] {
        let root = self.directory + "/blobs"
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { path in
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }
}
