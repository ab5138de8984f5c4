import ArgumentParser
import Registry

/// `wheelhouse gc [--dry-run] [--min-age SECONDS]`: removes what no row refers to, while the
/// server runs (each blob looked at again under the blob lock right before it goes).
struct GcCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove blobs no row refers to, and what crashed uploads left (temporary files, unfinished multipart uploads).",
        discussion: """
            Only blobs older than --min-age go (default 3600 seconds), and temporary files and multipart uploads older than \
            an hour at least (they may belong to an upload in progress elsewhere). Prints a line \
            for each blob and upload it removes (or, with --dry-run, would remove) and a summary. Safe while the server runs.
            """
    )

    @Flag(name: .customLong("dry-run"), help: "Print what would be removed; remove nothing.")
    var dryRun = false

    @Option(name: .customLong("min-age"), help: "Leave alone what was written less than this many seconds ago.")
    var minAge: Int64 = 3600

    @OptionGroup var data: DataOptions

    func validate() throws {
        guard self.minAge >= 0 else { throw ValidationError("--min-age must be 0 or more seconds") }
    }

    func run() async throws {
        try await MaintenanceRegistry.with(self.data) { registry, _ in
            let verb = self.dryRun ? "would remove" : "removed"
            let collector = GarbageCollector(
                store: registry.store,
                blobs: registry.blobs,
                minimumAge: .seconds(self.minAge),
                dryRun: self.dryRun
            )
            let summary = try await collector.run { event in
                switch event {
                case .blob(let sha256): print("\(verb) unreferenced blob \(sha256)")
                case .young(let sha256): print("kept unreferenced blob \(sha256): younger than \(self.minAge) seconds")
                case .staleUpload(let upload): print("\(verb) stale upload \(upload)")
                }
            }
            var line = "\(verb) \(summary.blobsRemoved) unreferenced blobs and \(summary.staleUploadsRemoved) stale uploads"
            line += "; kept \(summary.blobsKeptYoung) younger than \(self.minAge) seconds"
            if summary.blobsReferencedAgain > 0 { line += " and \(summary.blobsReferencedAgain) referenced again meanwhile" }
            print(line)
        }
    }
}
