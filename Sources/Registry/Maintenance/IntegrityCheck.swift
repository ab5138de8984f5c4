import NIOConcurrencyHelpers

/// `wheelhouse fsck`: does every blob a row refers to exist, with the size the row says (and, when
/// asked, bytes that hash to its sha256)? And which stored blobs does no row refer to?
///
/// Safe while the registry serves: the database and the store are only read. A blob found wrong is
/// looked up again before it is reported, so a file deleted during the check (its blob removed
/// after its row) is not a problem. Unreferenced blobs are listed, not counted as problems: a crash
/// between a blob and its row leaves them by design, and `gc` removes them.
public struct IntegrityCheck: Sendable {
    /// What is wrong with one referenced blob.
    public enum Fault: Sendable, Equatable, CustomStringConvertible {
        case missing
        case wrongSize(stored: Int64, expected: Int64)
        case wrongHash(actual: String)
        case unreadable(String)

        public var description: String {
            switch self {
            case .missing: "missing blob"
            case .wrongSize: "wrong size"
            case .wrongHash: "wrong hash"
            case .unreadable: "unreadable blob"
            }
        }

        var detail: String? {
            switch self {
            case .missing: nil
            case .wrongSize(let stored, let expected): "stored \(stored) bytes, the row says \(expected)"
            case .wrongHash(let actual): "its bytes hash to \(actual)"
            case .unreadable(let reason): reason
            }
        }
    }

    /// One faulty blob and the rows that refer to it.
    public struct Problem: Sendable {
        public var sha256: String
        public var fault: Fault
        public var uses: [BlobUse]

        /// One line per row: what is wrong, whose file it is, and the sha256.
        public var lines: [String] {
            let detail = self.fault.detail.map { " (\($0))" } ?? ""
            return self.uses.map { use in
                let kind = use.kind == .metadata && self.fault == .missing ? "missing metadata blob" : self.fault.description
                return "\(kind): \(use), sha256 \(self.sha256)\(detail)"
            }
        }
    }

    public struct Progress: Sendable {
        public var blobsDone = 0
        public var bytesDone: Int64 = 0
    }

    public struct Summary: Sendable {
        public var files = 0
        public var metadataBlobs = 0
        public var upstreamFiles = 0
        public var problems: [Problem] = []
        public var unreferenced = 0

        /// Problem lines, one per row that refers to a faulty blob.
        public var problemCount: Int { self.problems.reduce(0) { $0 + $1.lines.count } }

        /// `checked N files, M metadata blobs: K problems, U unreferenced blobs` (cached upstream
        /// files count among the files).
        public var line: String {
            "checked \(self.files + self.upstreamFiles) files, \(self.metadataBlobs) metadata blobs: \(self.problemCount) problems, "
                + "\(self.unreferenced) unreferenced blobs"
        }
    }

    /// What the check reports as it goes: a problem, an unreferenced blob, or progress.
    public enum Event: Sendable {
        case problem(Problem)
        case unreferenced(sha256: String)
        case progress(Progress)
    }

    let store: MetadataStore
    let blobs: any BlobStore
    let verifyHashes: Bool
    /// Blobs checked at the same time (a bucket answers each in tens of milliseconds).
    let concurrency: Int

    public init(store: MetadataStore, blobs: any BlobStore, verifyHashes: Bool, concurrency: Int = 4) {
        self.store = store
        self.blobs = blobs
        self.verifyHashes = verifyHashes
        self.concurrency = concurrency
    }

    /// Runs both passes; `report` is called with each problem, each unreferenced blob and the progress.
    public func run(report: @escaping @Sendable (Event) -> Void) async throws -> Summary {
        var summary = Summary()
        (summary.files, summary.metadataBlobs, summary.upstreamFiles) = try await self.store.blobUseCounts()
        summary.problems = try await self.checkReferencedBlobs(report: report)
        summary.unreferenced = try await self.listUnreferencedBlobs(report: report)
        return summary
    }

    /// Every blob a row refers to, a page at a time, `concurrency` at once.
    func checkReferencedBlobs(report: @escaping @Sendable (Event) -> Void) async throws -> [Problem] {
        var problems: [Problem] = []
        var progress = Progress()
        try await self.store.forEachReferencedBlob(concurrency: self.concurrency, { blob in await self.fault(of: blob) }) { blob, fault in
            progress.blobsDone += 1
            progress.bytesDone += blob.size
            if let fault, let problem = try await self.confirmed(fault, of: blob) {
                problems.append(problem)
                report(.problem(problem))
            }
            report(.progress(progress))
        }
        return problems
    }

    /// What is wrong with the stored blob, if anything.
    func fault(of blob: BlobReference) async -> Fault? {
        do {
            guard let size = try await self.blobs.size(ofSHA256: blob.sha256) else { return .missing }
            guard size == blob.size else { return .wrongSize(stored: size, expected: blob.size) }
            guard self.verifyHashes else { return nil }
            let actual = try await BlobCopier.digest(of: blob, in: self.blobs)
            return actual == blob.sha256 ? nil : .wrongHash(actual: actual)
        } catch  where BlobStoreError.isNotFound(error) {
            return .missing
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// The problem as of now: nil when no row refers to the blob any more (deleted meanwhile).
    private func confirmed(_ fault: Fault, of blob: BlobReference) async throws -> Problem? {
        let uses = try await self.store.uses(ofBlob: blob.sha256)
        guard !uses.isEmpty else { return nil }
        return Problem(sha256: blob.sha256, fault: fault, uses: uses)
    }

    /// Every stored blob no row refers to, looked up a page of the store's listing at a time.
    func listUnreferencedBlobs(report: @escaping @Sendable (Event) -> Void) async throws -> Int {
        let found = NIOLockedValueBox(0)
        try await UnreferencedBlobs(store: self.store, blobs: self.blobs).forEachPage { digests in
            for sha256 in digests { report(.unreferenced(sha256: sha256)) }
            found.withLockedValue { $0 += digests.count }
        }
        return found.withLockedValue { $0 }
    }
}
