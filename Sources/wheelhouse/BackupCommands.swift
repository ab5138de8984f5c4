import ArgumentParser
import Logging
import Registry
import RegistryServer

/// `wheelhouse backup DEST`: a consistent copy of the running registry (database snapshot, every
/// blob it refers to, a manifest of checksums) in a new directory.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of the registry (database, referenced blobs, manifest.json) into DEST.",
        discussion: """
            DEST must not exist or be empty. SQLite is copied with VACUUM INTO while the server runs, PostgreSQL as a \
            logical copy into DEST/wheelhouse.sqlite (one repeatable-read transaction); blobs are hard-linked into \
            DEST/blobs when on the same file system, copied otherwise (from S3 too). manifest.json is written last. \
            Restore with `wheelhouse restore DEST --data-dir NEW`.
            """
    )

    @Argument(help: "The directory to write the backup into (absent or empty).")
    var destination: String

    @OptionGroup var data: DataOptions

    func run() async throws {
        try await MaintenanceRegistry.with(self.data) { registry, logger in
            let backup = RegistryBackup(
                database: registry.database,
                blobs: registry.blobs,
                destination: self.destination,
                wheelhouseVersion: WheelhouseVersion.current,
                logger: logger
            )
            let box = ProgressBox()
            let summary = try await backup.run { box.show($0) }
            box.bar?.finish()
            print(
                "backed up \(summary.blobs) blobs (\(summary.bytes) bytes: \(summary.linked) linked, \(summary.copied) copied) "
                    + "and the database (schema \(summary.manifest?.schemaVersion ?? 0)) into \(self.destination)"
                    + (summary.attempts > 1 ? " after \(summary.attempts) attempts" : "")
            )
        }
    }
}

/// The progress bar of a backup, made once its totals are known (after the snapshot).
final class ProgressBox: @unchecked Sendable {
    private(set) var bar: ProgressBar?
    private var total = -1

    /// Called from one task at a time, in order.
    func show(_ progress: RegistryBackup.Progress) {
        if self.bar == nil || self.total != progress.total {
            self.bar = ProgressBar(total: progress.total, bytes: progress.totalBytes)
            self.total = progress.total
        }
        self.bar?.show(blobsDone: progress.blobsDone, bytesDone: progress.bytesDone)
    }
}

/// `wheelhouse restore SRC --data-dir NEW`: a backup verified and brought back into an empty data dir.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Verify a backup and restore it into an empty data directory, then check the result as fsck does.",
        discussion: """
            Every checksum in SRC/manifest.json is checked before anything is written; then the database goes to \
            NEW/wheelhouse.sqlite3 and the blobs into NEW/blobs (hard-linked when on the same file system). On any \
            failure NEW is left empty and the exit status is 1. For PostgreSQL, restore into a data dir, then \
            `wheelhouse migrate-data` and `wheelhouse blobs copy` (see docs/operations.md).
            """
    )

    @Argument(help: "The backup directory (written by `wheelhouse backup`).")
    var source: String

    @Option(name: .customLong("data-dir"), help: "The data directory to restore into (absent or empty).")
    var dataDirectory: String

    func run() async throws {
        let restore = RegistryRestore(source: self.source, destination: self.dataDirectory, logger: MaintenanceRegistry.logger())
        let summary: RegistryRestore.Summary
        do {
            summary = try await restore.run()
        } catch let error as RegistryRestore.Failure {
            if case .destinationNotEmpty = error {
                CommandLineError.print("restore refused: \(error)")
            } else {
                CommandLineError.print("restore failed, \(self.dataDirectory) left empty: \(error)")
            }
            throw ExitCode.failure
        } catch {
            CommandLineError.print("restore failed, \(self.dataDirectory) left empty: \(error)")
            throw ExitCode.failure
        }
        if let check = summary.check { print(check.line) }
        print(
            "restored \(summary.blobs) blobs (\(summary.bytes) bytes: \(summary.linked) linked, \(summary.copied) copied) "
                + "and the database (schema \(summary.schemaVersion)) into \(self.dataDirectory)"
        )
    }
}
