import PythonPackaging
import SQLKit

/// How a package listing is ordered (GitLab's `order_by` and `sort`).
public struct PackageOrder: Sendable, Equatable {
    public enum Key: String, Sendable { case createdAt = "created_at", name, version, type }
    public var key: Key
    public var ascending: Bool

    public init(key: Key = .createdAt, ascending: Bool = true) {
        self.key = key
        self.ascending = ascending
    }

    var sql: String {
        let column: String
        switch self.key {
        case .createdAt, .type: column = "created_at"
        case .name: column = "normalized_name"
        case .version: column = "canonical_version"
        }
        let direction = self.ascending ? "ASC" : "DESC"
        return "\(column) \(direction), id \(direction)"
    }
}

extension MetadataStore {
    func packages(in projectIDs: [ProjectID], name: String?, order: PackageOrder, page: PageRequest) async throws -> Page<Package> {
        guard !projectIDs.isEmpty else { return Page(items: [], total: 0) }
        return try await self.database.read { db in
            var filter = SQLQueryString("WHERE project_id IN (\(binds: projectIDs))")
            if let name {
                // GitLab matches package_name as a substring; we match on the normalised form.
                filter.appendLiteral(" AND normalized_name LIKE ")
                filter.appendInterpolation(bind: "%" + Self.escapeLike(name) + "%")
                filter.appendLiteral(" ESCAPE '\\'")
            }
            let total = try await db.raw("SELECT count(*) AS n FROM packages \(filter)").first()!.decode(column: "n", as: Int.self)
            let items = try await db.raw(
                """
                SELECT * FROM packages \(filter) ORDER BY \(unsafeRaw: order.sql) LIMIT \(bind: page.perPage) OFFSET \(bind: page.offset)
                """
            ).all().map { try $0.package() }
            return Page(items: items, total: total)
        }
    }

    private static func escapeLike(_ text: String) -> String {
        ProjectName.normalize(text).replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    func package(id: Int64, projectID: ProjectID) async throws -> Package? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM packages WHERE id = \(bind: id) AND project_id = \(bind: projectID)").first()?.package()
        }
    }

    func files(ofPackage packageID: Int64) async throws -> [PackageFile] {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM package_files WHERE package_id = \(bind: packageID) ORDER BY id").all().map { try $0.packageFile() }
        }
    }

    /// Deletes a release and its files; returns the digests of blobs that may now be unreferenced.
    func deletePackage(id: Int64, audit: [AuditEntry]) async throws -> [String] {
        try await self.database.transaction { db in
            let digests = try await db.raw("SELECT sha256, metadata_sha256 FROM package_files WHERE package_id = \(bind: id)").all()
                .flatMap { row in
                    [try row.decode(column: "sha256", as: String.self), try row.decode(column: "metadata_sha256", as: String?.self)].compactMap { $0 }
                }
            try await db.raw(
                "UPDATE projects SET packages_version = packages_version + 1 WHERE id IN (SELECT project_id FROM packages WHERE id = \(bind: id))"
            ).run()
            try await Self.reserveName(ofPackage: id, db)
            try await db.raw("DELETE FROM package_files WHERE package_id = \(bind: id)").run()
            try await db.raw("DELETE FROM package_details WHERE package_id = \(bind: id)").run()
            try await db.raw("DELETE FROM packages WHERE id = \(bind: id)").run()
            try await Self.record(audit, db)
            return digests
        }
    }

    /// Deletes one file; a release left without files goes too. Returns the digests of blobs that may
    /// now be unreferenced, or nil when the package has no such file. `audit` is given the file deleted.
    func deletePackageFile(id: Int64, packageID: Int64, audit: @escaping Audit<PackageFile>) async throws -> [String]? {
        try await self.database.transaction { db in
            guard
                let row = try await db.raw(
                    """
                    DELETE FROM package_files WHERE id = \(bind: id) AND package_id = \(bind: packageID) RETURNING *
                    """
                ).first()
            else { return nil }
            let file = try row.packageFile()
            try await Self.bumpPackagesVersion(db, projectID: file.projectID)
            let remaining = try await db.raw("SELECT count(*) AS n FROM package_files WHERE package_id = \(bind: packageID)").first()!
                .decode(column: "n", as: Int.self)
            if remaining == 0 {
                try await Self.reserveName(ofPackage: packageID, db)
                try await db.raw("DELETE FROM package_details WHERE package_id = \(bind: packageID)").run()
                try await db.raw("DELETE FROM packages WHERE id = \(bind: packageID)").run()
            }
            try await Self.record(audit(file), db)
            return [try row.decode(column: "sha256", as: String.self), try row.decode(column: "metadata_sha256", as: String?.self)].compactMap { $0 }
        }
    }

    /// Runs `remove` for each digest that no file row (nor the upstream cache) references any more, while holding the write
    /// lock, so that no upload can record a row for that content in between.
    /// A batch at a time, each in a short transaction of its own under the blob lock, and the
    /// batch's removals sixteen at once: a project of thousands of files in a bucket (a DELETE is
    /// tens of milliseconds there) stays far inside the database's write deadline, past which the
    /// lock would go while a DELETE is still on its way.
    func removeUnreferencedBlobs(_ digests: [String], remove: @escaping @Sendable (String) async throws -> Void) async throws {
        let unique = Array(Set(digests))
        for start in stride(from: 0, to: unique.count, by: 128) {
            let batch = unique[start..<min(unique.count, start + 128)]
            try await self.database.transaction(locking: [.blobs]) { db in
                var unreferenced: [String] = []
                for digest in batch {
                    let referenced =
                        try await db.raw(
                            """
                            SELECT 1 AS x FROM package_files WHERE sha256 = \(bind: digest) OR metadata_sha256 = \(bind: digest)
                            UNION ALL SELECT 1 AS x FROM upstream_blobs WHERE sha256 = \(bind: digest)
                            LIMIT 1
                            """
                        ).first() != nil
                    if !referenced { unreferenced.append(digest) }
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var pending = unreferenced[...]
                    for _ in 0..<16 {
                        guard let digest = pending.popFirst() else { break }
                        group.addTask { try await remove(digest) }
                    }
                    while try await group.next() != nil {
                        guard let digest = pending.popFirst() else { continue }
                        group.addTask { try await remove(digest) }
                    }
                }
            }
        }
    }
}
