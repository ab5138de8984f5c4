import ArgumentParser
import Registry

/// `wheelhouse fsck [--verify-hashes]`: checks that every stored byte the registry refers to is
/// there (and, with the flag, right), while it serves.
struct FsckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check that every file and metadata blob the database refers to is in the blob store, with its size.",
        discussion: """
            Prints one line per problem (what is wrong, the project, package and file, and the sha256), one line per \
            blob no row refers to (not a problem: `wheelhouse gc` removes them), and the summary \
            `checked N files, M metadata blobs: K problems, U unreferenced blobs`. A progress bar goes to stderr when it \
            is a terminal. Exits 0 when there is no problem, 1 otherwise. Safe while the server runs.
            """
    )

    @Flag(name: .customLong("verify-hashes"), help: "Also read every blob and check that its bytes hash to its sha256.")
    var verifyHashes = false

    @OptionGroup var data: DataOptions

    func run() async throws {
        try await MaintenanceRegistry.with(self.data) { registry, _ in
            let totals = try await registry.store.referencedBlobTotals()
            let bar = ProgressBar(total: totals.count, bytes: totals.bytes)
            let check = IntegrityCheck(store: registry.store, blobs: registry.blobs, verifyHashes: self.verifyHashes)
            let summary = try await check.run { event in
                switch event {
                case .problem(let problem):
                    bar.clear()
                    for line in problem.lines { print(line) }
                case .unreferenced(let sha256):
                    bar.clear()
                    print("unreferenced blob \(sha256)")
                case .progress(let progress):
                    bar.show(blobsDone: progress.blobsDone, bytesDone: progress.bytesDone)
                }
            }
            bar.finish()
            print(summary.line)
            if summary.problemCount > 0 { throw ExitCode.failure }
        }
    }
}
