import Foundation
import Logging

/// `wheelhouse restore SRC --data-dir NEW`: a backup brought back into an empty data directory,
/// proven before and after. First every checksum of the manifest is checked against the backup's
/// files (nothing is written until all match); then the database is copied to
/// `NEW/wheelhouse.sqlite3` (a copy: the server will write to it) and the blobs linked (they never
/// change, so a link is safe) or copied into `NEW/blobs`; then the restored registry gets `fsck`'s
/// checks. Anything failing leaves NEW empty (removed, when it did not exist before).
public struct RegistryRestore: Sendable {
    public enum Stage: Sendable {
        case verifying(done: Int, total: Int)
        case placing(done: Int, total: Int)
        case checking
    }

    public struct Summary: Sendable {
        public var blobs = 0
        public var bytes: Int64 = 0
        public var linked = 0
        public var copied = 0
        public var schemaVersion = 0
        public var check: IntegrityCheck.Summary?
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case destinationNotEmpty(String)
        case noManifest(String)
        case unreadableManifest(String)
        case unknownFormat(Int)
        case newerSchema(found: Int, known: Int)
        case checksum(file: String, expected: BackupManifest.File, actual: BackupManifest.File)
        case fileMissing(String)
        case checkFailed(IntegrityCheck.Summary)

        public var description: String {
            switch self {
            case .destinationNotEmpty(let path): "\(path) exists and is not an empty directory"
            case .noManifest(let path): "\(path) has no \(BackupManifest.fileName): not a backup, or an unfinished one"
            case .unreadableManifest(let reason): "\(BackupManifest.fileName) cannot be read: \(reason)"
            case .unknownFormat(let format): "the backup's format \(format) is newer than this wheelhouse's (\(BackupManifest.currentFormat))"
            case .newerSchema(let found, let known):
                "the backup's schema is at version \(found), this wheelhouse knows up to \(known): restore it with a newer wheelhouse"
            case .checksum(let file, let expected, let actual):
                "\(file) is \(actual.size) bytes with sha256 \(actual.sha256); the manifest says \(expected.size) bytes, \(expected.sha256)"
            case .fileMissing(let file): "\(file) is missing from the backup"
            case .checkFailed(let summary): "the restored registry fails its checks: \(summary.line)"
            }
        }
    }

    public static let databaseFileName = "wheelhouse.sqlite3"

    let source: String
    let destination: String
    let logger: Logger
    let files = MaintenanceFiles()

    public init(source: String, destination: String, logger: Logger) {
        self.source = source
        self.destination = destination
        self.logger = logger
    }

    public func run(progress: @escaping @Sendable (Stage) -> Void = { _ in }) async throws -> Summary {
        guard try MaintenanceFiles.isAbsentOrEmpty(self.destination) else { throw Failure.destinationNotEmpty(self.destination) }
        let manifest = try self.readManifest()
        try await self.verify(manifest, progress: progress)
        let existed = FileSystemCalls.fileExists(self.destination)
        do {
            return try await self.place(manifest, progress: progress)
        } catch {
            try? await self.files.empty(self.destination)
            if !existed { try? FileManager.default.removeItem(atPath: self.destination) }
            throw error
        }
    }

    func readManifest() throws -> BackupManifest {
        let path = self.source + "/" + BackupManifest.fileName
        guard FileSystemCalls.fileExists(path) else { throw Failure.noManifest(self.source) }
        let manifest: BackupManifest
        do { manifest = try BackupManifest.decode(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw Failure.unreadableManifest("\(error)")
        }
        guard manifest.formatVersion <= BackupManifest.currentFormat else { throw Failure.unknownFormat(manifest.formatVersion) }
        // The names become paths: only sha256s, never `../`.
        if let bad = manifest.blobs.first(where: { !Self.isDigest($0.sha256) }) {
            throw Failure.unreadableManifest("\"\(bad.sha256)\" is not a sha256")
        }
        guard !manifest.database.file.contains("/") else { throw Failure.unreadableManifest("the database file must be in the backup") }
        guard manifest.schemaVersion <= Schema.latestVersion else {
            throw Failure.newerSchema(found: manifest.schemaVersion, known: Schema.latestVersion)
        }
        return manifest
    }

    static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Every file of the backup against its checksum, before anything is written.
    func verify(_ manifest: BackupManifest, progress: @escaping @Sendable (Stage) -> Void) async throws {
        let database = BackupManifest.File(sha256: manifest.database.sha256, size: manifest.database.size)
        try await self.check(self.source + "/" + manifest.database.file, name: manifest.database.file, against: database)
        let root = self.source + "/" + BackupManifest.blobsDirectory
        for (index, blob) in manifest.blobs.enumerated() {
            try await self.check(LocalBlobStore.path(forSHA256: blob.sha256, under: root), name: "blob \(blob.sha256)", against: blob)
            progress(.verifying(done: index + 1, total: manifest.blobs.count))
        }
    }

    private func check(_ path: String, name: String, against expected: BackupManifest.File) async throws {
        guard let size = FileSystemCalls.size(path) else { throw Failure.fileMissing(name) }
        guard size == expected.size else { throw Failure.checksum(file: name, expected: expected, actual: .init(sha256: "(not read)", size: size)) }
        let actual = try await self.files.digest(of: path)
        guard actual == expected else { throw Failure.checksum(file: name, expected: expected, actual: actual) }
    }

    private func place(_ manifest: BackupManifest, progress: @escaping @Sendable (Stage) -> Void) async throws -> Summary {
        var summary = Summary()
        try FileSystemCalls.makeDirectories(self.destination)
        let databasePath = self.destination + "/" + Self.databaseFileName
        try await self.files.threadPool.runIfActive {
            try MaintenanceFiles.copy(self.source + "/" + manifest.database.file, to: databasePath)
        }
        let from = self.source + "/" + BackupManifest.blobsDirectory
        let blobs = try LocalBlobStore(root: self.destination + "/blobs")
        for (index, blob) in manifest.blobs.enumerated() {
            switch try await self.files.place(LocalBlobStore.path(forSHA256: blob.sha256, under: from), at: blobs.path(forSHA256: blob.sha256)) {
            case .linked: summary.linked += 1
            case .copied: summary.copied += 1
            }
            summary.blobs += 1
            summary.bytes += blob.size
            progress(.placing(done: index + 1, total: manifest.blobs.count))
        }
        progress(.checking)
        // Opening migrates a backup of an older schema up to this wheelhouse's.
        let database = try await MetadataDatabase.open(.sqlite(path: databasePath), poolSize: 2, logger: self.logger)
        let check: IntegrityCheck.Summary
        do {
            summary.schemaVersion = try await MetadataStore(database: database).schemaVersion()
            check = try await IntegrityCheck(store: MetadataStore(database: database), blobs: blobs, verifyHashes: false).run { _ in }
            await database.close()
        } catch {
            await database.close()
            throw error
        }
        summary.check = check
        guard check.problemCount == 0, check.unreferenced == 0 else { throw Failure.checkFailed(check) }
        return summary
    }
}
