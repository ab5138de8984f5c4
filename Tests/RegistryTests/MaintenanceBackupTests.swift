import Foundation
import Logging
import TestSupport
import Testing

@testable import Registry

/// `wheelhouse backup` and `restore`: a round trip gives back every file byte for byte (from
/// SQLite through VACUUM INTO, from PostgreSQL as a logical copy); a tampered backup is refused and
/// leaves the target empty; a backup refuses a non-empty destination and a registry missing a blob.
@Suite struct MaintenanceBackupTests {
    let logger = Logger(label: "test")

    @Test func backupAndRestoreRoundTrip() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            let destination = registry.directory + "/backup"
            let summary = try await self.backup(registry, to: destination)
            #expect(summary.blobs == 3 && summary.linked == 3 && summary.attempts == 1)
            let manifest = try #require(summary.manifest)
            #expect(manifest.formatVersion == 1 && manifest.schemaVersion == Schema.latestVersion)
            #expect(manifest.database.source == registry.database.dialect.rawValue)
            #expect(Set(manifest.blobs.map(\.sha256)) == Set([fixture.wheel, fixture.sdist, fixture.metadata].map(\.sha256)))

            let target = registry.directory + "/restored"
            let restored = try await RegistryRestore(source: destination, destination: target, logger: self.logger).run()
            #expect(restored.blobs == 3 && restored.check?.problemCount == 0)
            let database = try await MetadataDatabase.open(.sqlite(path: target + "/wheelhouse.sqlite3"), logger: self.logger)
            let files = try await MetadataStore(database: database).referencedBlobs(after: "", limit: 10)
            await database.close()
            #expect(Set(files.map(\.sha256)) == Set(manifest.blobs.map(\.sha256)))
            let blobs = try LocalBlobStore(root: target + "/blobs")
            for blob in [fixture.wheel, fixture.sdist] {
                let copy = Array(try Data(contentsOf: URL(fileURLWithPath: blobs.path(forSHA256: blob.sha256))))
                #expect(copy == (try fixture.bytes(blob)))
            }
        }
    }

    @Test func aTamperedBackupIsRefusedAndTheTargetLeftAsItWas() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            let destination = registry.directory + "/backup"
            _ = try await self.backup(registry, to: destination)
            // A new file in the backup (its blobs are links to the registry's own).
            let path = LocalBlobStore.path(forSHA256: fixture.sdist.sha256, under: destination + "/blobs")
            var bytes = try fixture.bytes(fixture.sdist)
            bytes[0] ^= 1
            try FileManager.default.removeItem(atPath: path)
            try Data(bytes).write(to: URL(fileURLWithPath: path))

            let absent = registry.directory + "/absent"
            await #expect(throws: RegistryRestore.Failure.self) {
                _ = try await RegistryRestore(source: destination, destination: absent, logger: self.logger).run()
            }
            #expect(!FileManager.default.fileExists(atPath: absent))
            let empty = registry.directory + "/empty"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
            await #expect(throws: RegistryRestore.Failure.self) {
                _ = try await RegistryRestore(source: destination, destination: empty, logger: self.logger).run()
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
            // The registry itself is untouched.
            #expect(try await fixture.check(verifyHashes: true).problemCount == 0)
        }
    }

    @Test func refusesANonEmptyDestinationAndAMissingBlob() async throws {
        try await TemporaryRegistry.with { registry in
            let fixture = try await MaintenanceFixture.make(registry)
            let destination = registry.directory + "/backup"
            _ = try await self.backup(registry, to: destination)
            await #expect(throws: RegistryBackup.Failure.self) { _ = try await self.backup(registry, to: destination) }

            try await registry.blobs.remove(sha256: fixture.sdist.sha256)
            let second = registry.directory + "/second"
            do {
                _ = try await self.backup(registry, to: second)
                Issue.record("a backup of a registry missing a blob succeeded")
            } catch RegistryBackup.Failure.blobMissing(let sha256, let uses) {
                #expect(sha256 == fixture.sdist.sha256 && uses.map(\.fileName) == ["demo-1.0.tar.gz"])
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: second).isEmpty)
        }
    }

    /// A backup from PostgreSQL is `DatabaseCopy`'s copy: every table of the schema must be in it
    /// or left out on purpose (a new table, such as audit_events, cannot be forgotten).
    @Test func theLogicalCopyCoversEveryTable() async throws {
        try await TemporaryRegistry.with { registry in
            let tables = try await registry.database.read { db in
                switch registry.database.dialect {
                case .sqlite:
                    try await db.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all()
                        .map { try $0.decode(column: "name", as: String.self) }
                case .postgres:
                    try await db.raw("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()").all()
                        .map { try $0.decode(column: "name", as: String.self) }
                }
            }
            let covered = Set(DatabaseCopy.tables.map(\.name)).union(DatabaseCopy.uncopiedTables)
            #expect(Set(tables).subtracting(covered).isEmpty, "tables neither copied nor left out on purpose")
            #expect(covered.subtracting(tables).isEmpty, "tables the copy names that the schema lacks")
        }
    }

    private func backup(_ registry: TemporaryRegistry, to destination: String) async throws -> RegistryBackup.Summary {
        try await RegistryBackup(
            database: registry.database,
            blobs: registry.blobs,
            destination: destination,
            wheelhouseVersion: "test",
            logger: self.logger
        ).run()
    }
}
