import SQLKit

/// A file as the bulk loader records it: checked like an upload, but with no bytes behind it.
public struct ListedUpload: Sendable {
    var name: String
    var normalizedName: String
    var version: String
    var canonicalVersion: String
    var fileName: String
    var size: Int64
    var digests: FileDigests
    var requiresPython: String?
    var coreMetadata: BlobReference?
}

extension MetadataStore {
    /// Rows per statement: 13 values a file, well below every database's limit on bound values.
    private static let rowsPerStatement = 200

    /// Records many files of one project in one transaction, their releases created as needed,
    /// many rows per statement, and bumps the project's packages_version once. No blob is placed:
    /// this is for loading large catalogues (benchmarks), whose pages need rows only. A file name
    /// already taken refuses the whole batch. `audit` is given the numbers recorded.
    func recordListedFiles(
        _ files: [ListedUpload],
        projectID: ProjectID,
        audit: @escaping Audit<(packages: Int, files: Int)>
    ) async throws -> (packages: Int, files: Int) {
        guard !files.isEmpty else { return (0, 0) }
        do {
            return try await self.database.transaction(locking: [.blobs], unbounded: true) { db in
                let now = Timestamp.now().microseconds
                var releases: [String: Int64] = [:]
                var created = 0
                var seen = Set<String>()
                let distinct = files.filter { seen.insert($0.normalizedName + " " + $0.canonicalVersion).inserted }
                for chunk in distinct.chunks(of: Self.rowsPerStatement) {
                    let values = chunk.map { file -> SQLQueryString in
                        "(\(bind: projectID), \(bind: file.name), \(bind: file.normalizedName), \(bind: file.version), \(bind: file.canonicalVersion), \(bind: now))"
                    }
                    let rows = try await db.raw(
                        """
                        INSERT INTO packages (project_id, name, normalized_name, version, canonical_version, created_at)
                        VALUES \(values.joined(separator: ", "))
                        ON CONFLICT (project_id, normalized_name, canonical_version) DO UPDATE SET name = packages.name
                        RETURNING id, normalized_name, canonical_version, created_at
                        """
                    ).all()
                    for row in rows {
                        let key =
                            try row.decode(column: "normalized_name", as: String.self) + " "
                            + row.decode(column: "canonical_version", as: String.self)
                        releases[key] = try row.decode(column: "id", as: Int64.self)
                        if try row.decode(column: "created_at", as: Int64.self) == now { created += 1 }
                    }
                }
                for chunk in files.chunks(of: Self.rowsPerStatement) {
                    let values = chunk.map { file -> SQLQueryString in
                        let packageID = releases[file.normalizedName + " " + file.canonicalVersion]!
                        return """
                            (\(bind: packageID), \(bind: projectID), \(bind: file.fileName), \(bind: file.size), \(bind: file.digests.sha256),
                             \(bind: file.digests.md5), \(bind: file.digests.blake2b256), \(bind: file.requiresPython), \(bind: now),
                             \(bind: file.coreMetadata?.sha256), \(bind: file.coreMetadata?.size), 0)
                            """
                    }
                    try await db.raw(
                        """
                        INSERT INTO package_files (package_id, project_id, file_name, size, sha256, md5, blake2b_256, requires_python,
                                                   uploaded_at, metadata_sha256, metadata_size, yanked)
                        VALUES \(values.joined(separator: ", "))
                        """
                    ).run()
                }
                try await Self.bumpPackagesVersion(db, projectID: projectID)
                try await Self.record(audit((created, files.count)), db)
                return (created, files.count)
            }
        } catch  where DatabaseDialect.isUniqueViolation(error) {
            throw RegistryError.conflict("A file name in the listing has already been taken in the project")
        }
    }
}

extension Array {
    fileprivate func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: self.count, by: size).map { self[$0..<Swift.min($0 + size, self.count)] }
    }
}
