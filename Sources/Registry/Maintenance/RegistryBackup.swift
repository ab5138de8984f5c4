import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `wheelhouse backup DEST`: a consistent copy of a running registry in a directory.
///
/// The database is copied as of one moment: SQLite's `VACUUM INTO` (a snapshot of the live file,
/// while the server keeps writing), or, from PostgreSQL, a logical copy into an SQLite file through
/// `DatabaseCopy` (one repeatable-read transaction). Then every blob *that copy* refers to goes
/// into `DEST/blobs/`, hard-linked where the file system allows, copied otherwise. An upload
/// commits its blob before its row, so a row in the snapshot always has its blob: an upload during
/// the backup is wholly in it or not at all. Only a deletion after the snapshot can take a blob
/// the copy needs; then the backup starts again from a new snapshot, a few times, before it gives
/// up. `manifest.json`, with every checksum, is written last.
public struct RegistryBackup: Sendable {
    public struct Summary: Sendable {
        public var blobs = 0
        public var bytes: Int64 = 0
        public var linked = 0
        public var copied = 0
        public var attempts = 0
        public var manifest: BackupManifest?
    }

    public struct Progress: Sendable {
        public var blobsDone = 0
        public var bytesDone: Int64 = 0
        public var total = 0
        public var totalBytes: Int64 = 0
    }

    /// Why a backup could not be made; DEST is left empty.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case destinationNotEmpty(String)
        case schemaMismatch(found: Int, known: Int)
        /// A blob the registry's rows refer to is not in its store (not a concurrent deletion).
        case blobMissing(sha256: String, uses: [BlobUse])
        case blobWrongSize(sha256: String, stored: Int64, expected: Int64)
        /// Deletions kept taking blobs between snapshot and copy.
        case keptChanging(attempts: Int)

        public var description: String {
            switch self {
            case .destinationNotEmpty(let path): "\(path) exists and is not an empty directory"
            case .schemaMismatch(let found, let known):
                "the database's schema is at version \(found), this wheelhouse's at \(known): run `wheelhouse migrate` first"
            case .blobMissing(let sha256, let uses):
                "blob \(sha256) is missing from the store (\(uses.map(\.description).joined(separator: "; "))): run `wheelhouse fsck`"
            case .blobWrongSize(let sha256, let stored, let expected):
                "blob \(sha256) is \(stored) bytes in the store, its row says \(expected): run `wheelhouse fsck`"
            case .keptChanging(let attempts):
                "blobs were deleted between the database snapshot and their copy \(attempts) times in a row; try again when fewer deletions run"
            }
        }
    }

    let database: MetadataDatabase
    let blobs: any BlobStore
    let destination: String
    let wheelhouseVersion: String
    let logger: Logger
    let attempts: Int
    let files = MaintenanceFiles()

    public init(database: MetadataDatabase, blobs: any BlobStore, destination: String, wheelhouseVersion: String, logger: Logger, attempts: Int = 3) {
        self.database = database
        self.blobs = blobs
        self.destination = destination
        self.wheelhouseVersion = wheelhouseVersion
        self.logger = logger
        self.attempts = attempts
    }

    var databasePath: String { self.destination + "/" + BackupManifest.databaseFileName }
    var blobRoot: String { self.destination + "/" + BackupManifest.blobsDirectory }

    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        guard try MaintenanceFiles.isAbsentOrEmpty(self.destination) else { throw Failure.destinationNotEmpty(self.destination) }
        let schema = try await MetadataStore(database: self.database).schemaVersion()
        guard schema == Schema.latestVersion else { throw Failure.schemaMismatch(found: schema, known: Schema.latestVersion) }
        try FileSystemCalls.makeDirectories(self.destination)
        do {
            for attempt in 1...self.attempts {
                do {
                    var summary = try await self.attempt(schema: schema, progress: progress)
                    summary.attempts = attempt
                    return summary
                } catch let vanished as BlobVanished {
                    self.logger.notice("a blob was deleted after the snapshot; starting again", metadata: ["sha256": "\(vanished.sha256)"])
                    try await self.files.empty(self.destination)
                }
            }
            throw Failure.keptChanging(attempts: self.attempts)
        } catch {
            try? await self.files.empty(self.destination)
            throw error
        }
    }

    /// A blob of the snapshot gone from the store by the time it was linked, and no row refers to
    /// it now: a deletion after the snapshot.
    struct BlobVanished: Error {
        var sha256: String
    }

    private func attempt(schema: Int, progress: @escaping @Sendable (Progress) -> Void) async throws -> Summary {
        try await self.snapshotDatabase()
        var summary = Summary()
        let snapshot = try await MetadataDatabase.open(.sqlite(path: self.databasePath), poolSize: 1, migrating: false, logger: self.logger)
        let entries: [BackupManifest.File]
        do {
            entries = try await self.copyBlobs(of: MetadataStore(database: snapshot), into: &summary, progress: progress)
            await snapshot.close()
        } catch {
            await snapshot.close()
            throw error
        }
        // The copy is closed, its WAL folded back into the file: its bytes are final now. A WAL
        // left beside it would hold rows the file lacks.
        guard FileSystemCalls.size(self.databasePath + "-wal") ?? 0 == 0 else {
            throw FileSystemError(operation: "close (its WAL stayed)", path: self.databasePath, errno: EIO)
        }
        try? await self.files.threadPool.runIfActive {
            _ = unlink(self.databasePath + "-wal")
            _ = unlink(self.databasePath + "-shm")
        }
        try await self.files.sync(file: self.databasePath)
        let digest = try await self.files.digest(of: self.databasePath)
        let manifest = BackupManifest(
            formatVersion: BackupManifest.currentFormat,
            createdAt: BackupManifest.timestamp(),
            wheelhouseVersion: self.wheelhouseVersion,
            schemaVersion: schema,
            database: .init(file: BackupManifest.databaseFileName, sha256: digest.sha256, size: digest.size, source: self.database.dialect.rawValue),
            blobs: entries
        )
        try await self.files.writeAtomically(try manifest.encoded(), to: self.destination + "/" + BackupManifest.fileName)
        summary.manifest = manifest
        return summary
    }

    /// The database as of one moment, into `DEST/wheelhouse.sqlite`.
    private func snapshotDatabase() async throws {
        let path = self.databasePath
        switch self.database.dialect {
        case .sqlite:
            // VACUUM INTO reads one snapshot of the live database (a read transaction: the
            // server's writer goes on) and writes it compacted into a new file.
            let quoted = "'" + path.replacingOccurrences(of: "'", with: "''") + "'"
            try await self.database.read { db in try await db.raw("VACUUM INTO \(unsafeRaw: quoted)").run() }
        case .postgres:
            let copy = try await MetadataDatabase.open(.sqlite(path: path), poolSize: 1, logger: self.logger)
            do {
                _ = try await DatabaseCopy.copy(from: self.database, to: copy)
                await copy.close()
            } catch {
                await copy.close()
                throw error
            }
        }
    }

    /// Every blob the snapshot refers to into `DEST/blobs`, in the store's layout.
    private func copyBlobs(
        of snapshot: MetadataStore,
        into summary: inout Summary,
        progress report: @escaping @Sendable (Progress) -> Void
    ) async throws -> [BackupManifest.File] {
        let totals = try await snapshot.referencedBlobTotals()
        var progress = Progress(total: totals.count, totalBytes: totals.bytes)
        let target = try LocalBlobStore(root: self.blobRoot)
        var entries: [BackupManifest.File] = []
        var after = ""
        while true {
            let page = try await snapshot.referencedBlobs(after: after, limit: 500)
            guard let last = page.last else { break }
            after = last.sha256
            for blob in page {
                switch try await self.copy(blob, to: target) {
                case .linked: summary.linked += 1
                case .copied: summary.copied += 1
                }
                entries.append(BackupManifest.File(sha256: blob.sha256, size: blob.size))
                summary.blobs += 1
                summary.bytes += blob.size
                progress.blobsDone += 1
                progress.bytesDone += blob.size
                report(progress)
            }
        }
        try? await self.files.threadPool.runIfActive { _ = rmdir(self.blobRoot + "/tmp") }
        return entries
    }

    /// One blob: linked from a local store, else streamed from the store into a new file (its
    /// bytes hashed on the way: a blob that does not hash to its name is refused).
    private func copy(_ blob: BlobReference, to target: LocalBlobStore) async throws -> MaintenanceFiles.Placed {
        let destination = target.path(forSHA256: blob.sha256)
        do {
            if let source = self.blobs.localPath(forSHA256: blob.sha256) {
                let placed = try await self.files.place(source, at: destination)
                let size = FileSystemCalls.size(destination) ?? -1
                guard size == blob.size else { throw Failure.blobWrongSize(sha256: blob.sha256, stored: size, expected: blob.size) }
                return placed
            }
            let upload = try await target.makeUpload()
            defer { upload.discard() }
            if blob.size > 0 {
                for try await chunk in try await self.blobs.chunks(sha256: blob.sha256, range: 0...(blob.size - 1)) {
                    try await upload.append(chunk)
                }
            }
            let digests = try await upload.finish()
            guard digests.sha256 == blob.sha256, upload.size == blob.size else {
                throw IntegrityFailure(sha256: blob.sha256, actual: digests.sha256, size: upload.size)
            }
            try await target.commit(upload, sha256: blob.sha256)
            return .copied
        } catch  where BlobStoreError.isNotFound(error) {
            let uses = try await MetadataStore(database: self.database).uses(ofBlob: blob.sha256)
            guard uses.isEmpty else { throw Failure.blobMissing(sha256: blob.sha256, uses: uses) }
            throw BlobVanished(sha256: blob.sha256)
        }
    }
}

/// A blob whose bytes do not hash to its name.
public struct IntegrityFailure: Error, Sendable, CustomStringConvertible {
    public var sha256: String
    public var actual: String
    public var size: Int64

    public var description: String {
        "blob \(self.sha256) reads as \(self.size) bytes hashing to \(self.actual): run `wheelhouse fsck --verify-hashes`"
    }
}
