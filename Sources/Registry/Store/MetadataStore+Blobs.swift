import SQLKit

extension MetadataStore {
    /// Every blob a row refers to (package files, their core metadata, cached upstream files), in
    /// sha256 order, `limit` at a time after `after`: a copy or a check of the store walks them
    /// page by page, with bounded memory however many there are.
    public func referencedBlobs(after: String, limit: Int) async throws -> [BlobReference] {
        try await self.database.read { db in
            try await db.raw(
                """
                SELECT sha256, MAX(size) AS size FROM (
                    SELECT sha256, size FROM package_files
                    UNION ALL SELECT metadata_sha256 AS sha256, metadata_size AS size FROM package_files WHERE metadata_sha256 IS NOT NULL
                    UNION ALL SELECT sha256, size FROM upstream_blobs
                ) AS referenced
                WHERE sha256 > \(bind: after)
                GROUP BY sha256 ORDER BY sha256 LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { row in
                BlobReference(sha256: try row.decode(column: "sha256", as: String.self), size: try row.decode(column: "size", as: Int64.self))
            }
        }
    }

    /// How many distinct blobs rows refer to, and their bytes: for a progress bar.
    public func referencedBlobTotals() async throws -> (count: Int, bytes: Int64) {
        try await self.database.read { db in
            let row = try await db.raw(
                """
                SELECT COUNT(*) AS count, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM (
                    SELECT sha256, MAX(size) AS size FROM (
                        SELECT sha256, size FROM package_files
                        UNION ALL SELECT metadata_sha256 AS sha256, metadata_size AS size FROM package_files WHERE metadata_sha256 IS NOT NULL
                        UNION ALL SELECT sha256, size FROM upstream_blobs
                    ) AS referenced GROUP BY sha256
                ) AS distinct_blobs
                """
            ).first()
            return (Int(try row?.decode(column: "count", as: Int64.self) ?? 0), try row?.decode(column: "bytes", as: Int64.self) ?? 0)
        }
    }

    /// Does `work` to every referenced blob, a page of 500 at a time, at most `concurrency` at once,
    /// and hands each outcome to `finished` as it completes (one at a time, in this task, so it may
    /// keep running totals). What a copy and a check of the store share; memory stays bounded by a
    /// page however many blobs there are.
    func forEachReferencedBlob<Outcome: Sendable>(
        concurrency: Int,
        _ work: @escaping @Sendable (BlobReference) async -> Outcome,
        finished: (BlobReference, Outcome) async throws -> Void
    ) async throws {
        var after = ""
        while true {
            let page = try await self.referencedBlobs(after: after, limit: 500)
            guard let last = page.last else { return }
            after = last.sha256
            try await withThrowingTaskGroup(of: (BlobReference, Outcome).self) { group in
                var pending = page[...]
                func startNext() {
                    guard let blob = pending.popFirst() else { return }
                    group.addTask { (blob, await work(blob)) }
                }
                for _ in 0..<max(1, concurrency) { startNext() }
                while let (blob, outcome) = try await group.next() {
                    try await finished(blob, outcome)
                    startNext()
                }
            }
        }
    }
}
