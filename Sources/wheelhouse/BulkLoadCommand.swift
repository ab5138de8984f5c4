import ArgumentParser
import Registry

#if canImport(Glibc)
import Glibc
#endif

/// `wheelhouse bulk-load`: records a listing of files (JSON lines) in a project, without their bytes.
struct BulkLoadCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulk-load",
        abstract: "Record a large catalogue of files in a project, without their bytes (for benchmarks).",
        discussion: """
            FILE holds one JSON object per line: {"name": ..., "version": ..., "file_name": ..., "sha256": ..., "size": ...}, \
            optionally with "md5", "blake2b_256", "requires_python", "core_metadata_sha256" and "core_metadata_size". \
            Each line is checked as an upload's form is; the file name must match the name and version. \
            No bytes are stored, so downloads of these files answer 404; pages and indexes show them. \
            Lines are recorded in batches of 10,000, each in one transaction; a file name already taken refuses its batch.
            """
    )

    @Option(help: "The project's full path or id.") var project: String
    @Argument(help: "The listing, or - for standard input.") var file: String
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions

    static let batchSize = 10_000

    func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
        let project = try await services.admin.existingProject(self.project)
        let loader = services.catalogue
        var lines = try LineReader(path: self.file)
        defer { lines.close() }
        var batch: [ListedUpload] = []
        var packages = 0
        var files = 0
        var number = 0
        while let line = try lines.next() {
            number += 1
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            batch.append(try loader.check(line, number: number))
            if batch.count == Self.batchSize {
                let recorded = try await loader.record(batch, in: project)
                (packages, files) = (packages + recorded.packages, files + recorded.files)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty {
            let recorded = try await loader.record(batch, in: project)
            (packages, files) = (packages + recorded.packages, files + recorded.files)
        }
        return (
            .object([("packages", .int(Int64(packages))), ("files", .int(Int64(files)))]),
            "Recorded \(files) files in \(packages) new releases of \(project.pathWithNamespace)"
        )
    }
}

/// Reads a file (or standard input, for `-`) one line at a time, a block at a time: a listing of a
/// million files is never held in memory whole.
struct LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var ended = false

    init(path: String) throws {
        self.descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard self.descriptor >= 0 else { throw ValidationFailure(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    /// The next line without its newline; nil at the end.
    mutating func next() throws -> String? {
        while true {
            if let newline = self.buffer[self.start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { self.start = newline + 1 }
                return String(decoding: self.buffer[self.start..<newline], as: UTF8.self)
            }
            if self.ended {
                guard self.start < self.buffer.count else { return nil }
                defer { self.start = self.buffer.count }
                return String(decoding: self.buffer[self.start...], as: UTF8.self)
            }
            self.buffer.removeFirst(self.start)
            self.start = 0
            var block = [UInt8](repeating: 0, count: 1 << 20)
            let count = block.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ValidationFailure(message: "cannot read the listing: \(String(cString: strerror(errno)))")
            }
            if count == 0 { self.ended = true } else { self.buffer += block[..<count] }
        }
    }

    func close() {
        if self.descriptor != STDIN_FILENO { Glibc.close(self.descriptor) }
    }
}
