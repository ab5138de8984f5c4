import ArgumentParser
import Logging
import NIOConcurrencyHelpers
import Registry

#if canImport(Glibc)
import Glibc
#endif

struct BlobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blobs",
        abstract: "Work on the blob store as a whole.",
        subcommands: [BlobsCopyCommand.self]
    )
}

/// `wheelhouse blobs copy --from file:PATH --to s3://BUCKET`: moves a registry's files to another
/// store while it keeps serving; run it again to resume, then restart `serve` on the new store.
struct BlobsCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy every blob the database refers to into another store, verifying each (resumable).",
        discussion: """
            STORE is file:PATH or s3://BUCKET[/PREFIX]; the --s3-* options and the AWS_* variables apply to the s3 side. \
            Blobs already at the destination whose bytes hash to their sha256 are skipped. Prints a summary line; \
            exits 1 if any blob failed.
            """
    )

    @Option(help: "The store to copy from (STORE).")
    var from: String

    @Option(help: "The store to copy to (STORE).")
    var to: String

    @OptionGroup var data: DataOptions

    func run() async throws {
        // Log lines go to stderr: stdout carries only the summary line.
        var logger = Logger(label: "wheelhouse") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let source: BlobStoreLocation
        let destination: BlobStoreLocation
        do {
            source = try BlobStoreLocation(parsing: self.from)
            destination = try BlobStoreLocation(parsing: self.to)
        } catch {
            throw ValidationError("\(error)")
        }
        guard source != destination else { throw ValidationError("--from and --to are the same store") }
        let database = try await MetadataDatabase.open(try self.data.databaseLocation(), poolSize: try self.data.poolSize(), logger: logger)
        var stores: [any BlobStore] = []
        let outcome: Result<BlobCopier.Progress, any Error>
        do {
            let from = try self.data.makeBlobStore(source, logger: logger)
            stores.append(from)
            let to = try self.data.makeBlobStore(destination, logger: logger)
            stores.append(to)
            try await from.checkAccess()
            try await to.checkAccess()
            let store = MetadataStore(database: database)
            let totals = try await store.referencedBlobTotals()
            let bar = ProgressBar(total: totals.count, bytes: totals.bytes)
            let copier = BlobCopier(store: store, from: from, to: to)
            outcome = .success(
                try await copier.run { progress, failure in
                    if let failure { bar.interject("failed \(failure.sha256): \(failure.reason)") }
                    bar.show(progress)
                }
            )
            bar.finish()
        } catch {
            outcome = .failure(error)
        }
        for store in stores { try? await store.shutdown() }
        await database.close()
        switch outcome {
        case .success(let progress):
            print(
                "copied \(progress.copied) blobs (\(progress.bytesCopied) bytes), skipped \(progress.skipped) already present, "
                    + "\(progress.failed) failed"
            )
            if progress.failed > 0 { throw ExitCode.failure }
        case .failure(let error):
            CommandLineError.print("\(error)")
            throw ExitCode.failure
        }
    }
}

/// One line on stderr redrawn in place, only when stderr is a terminal (a log or a pipe gets just
/// the failures and the summary), at most ten times a second.
final class ProgressBar: Sendable {
    private let total: Int
    private let bytes: Int64
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let lastDrawn = NIOLockedValueBox<Int64>(0)

    init(total: Int, bytes: Int64) {
        self.total = total
        self.bytes = bytes
    }

    func show(_ progress: BlobCopier.Progress) {
        self.show(blobsDone: progress.blobsDone, bytesDone: progress.bytesDone)
    }

    /// Also for `fsck` and `backup`, which count the same way.
    func show(blobsDone: Int, bytesDone: Int64) {
        guard self.isTerminal else { return }
        let now = Self.milliseconds()
        let due = self.lastDrawn.withLockedValue { last in
            guard now - last >= 100 || blobsDone == self.total else { return false }
            last = now
            return true
        }
        guard due else { return }
        let fraction = self.bytes > 0 ? Double(bytesDone) / Double(self.bytes) : 1
        let width = 30
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var standardError = StandardError()
        print(
            "\r[\(bar)] \(blobsDone)/\(self.total) blobs, \(Self.mebibytes(bytesDone))/\(Self.mebibytes(self.bytes)) MiB",
            terminator: "",
            to: &standardError
        )
    }

    /// A line of its own above the bar.
    func interject(_ line: String) {
        var standardError = StandardError()
        print(self.isTerminal ? "\r\u{1B}[2K\(line)" : line, to: &standardError)
    }

    /// Clears the bar's line, before a line of stdout goes to the same terminal.
    func clear() {
        guard self.isTerminal else { return }
        var standardError = StandardError()
        print("\r\u{1B}[2K", terminator: "", to: &standardError)
    }

    func finish() {
        guard self.isTerminal else { return }
        var standardError = StandardError()
        print("", to: &standardError)
    }

    private static func mebibytes(_ bytes: Int64) -> String {
        String((Double(bytes) / 1_048_576 * 10).rounded() / 10)
    }

    private static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
