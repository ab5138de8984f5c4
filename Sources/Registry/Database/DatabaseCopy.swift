import SQLKit

/// Copies every row of one registry database into another, empty one (`wheelhouse migrate-data`):
/// a one-box SQLite registry into PostgreSQL, or back. Ids are kept, so tokens, links and blob
/// references stay valid; the copy is one transaction on the target, so it lands whole or not at all.
public enum DatabaseCopy {
    /// How a column's values are read and written.
    enum ColumnType {
        case integer, text, optionalInteger, optionalText
    }

    /// Every table with every column, parents before children. `DatabaseCopyTests` checks this list
    /// against the schema, so a new column cannot be forgotten here.
    static let tables: [(name: String, columns: [(String, ColumnType)])] = [
        (
            "users",
            [("id", .integer), ("username", .text), ("is_admin", .integer), ("created_at", .integer), ("password_hash", .optionalText)]
        ),
        (
            "namespaces",
            [
                ("id", .integer), ("kind", .text), ("parent_id", .optionalInteger), ("path", .text), ("full_path", .text),
                ("name", .text), ("visibility", .text), ("owner_id", .optionalInteger), ("created_at", .integer),
                ("description", .text), ("pypi_forwarding", .optionalInteger),
            ]
        ),
        (
            "projects",
            [
                ("id", .integer), ("namespace_id", .integer), ("path", .text), ("path_with_namespace", .text), ("name", .text),
                ("visibility", .text), ("created_at", .integer), ("description", .text), ("packages_version", .integer),
            ]
        ),
        (
            "members",
            [
                ("id", .integer), ("source_kind", .text), ("source_id", .integer), ("user_id", .integer),
                ("access_level", .integer), ("created_at", .integer),
            ]
        ),
        (
            "personal_access_tokens",
            [
                ("id", .integer), ("user_id", .integer), ("name", .text), ("token_digest", .text), ("scopes", .text),
                ("expires_at", .optionalText), ("revoked", .integer), ("created_at", .integer),
            ]
        ),
        (
            "deploy_tokens",
            [
                ("id", .integer), ("source_kind", .text), ("source_id", .integer), ("name", .text), ("username", .text),
                ("token_digest", .text), ("scopes", .text), ("expires_at", .optionalText), ("revoked", .integer),
                ("created_at", .integer),
            ]
        ),
        (
            "packages",
            [
                ("id", .integer), ("project_id", .integer), ("name", .text), ("normalized_name", .text), ("version", .text),
                ("canonical_version", .text), ("created_at", .integer), ("summary", .text),
            ]
        ),
        (
            "package_files",
            [
                ("id", .integer), ("package_id", .integer), ("project_id", .integer), ("file_name", .text), ("size", .integer),
                ("sha256", .text), ("md5", .text), ("blake2b_256", .text), ("requires_python", .optionalText),
                ("uploaded_at", .integer), ("metadata_sha256", .optionalText), ("metadata_size", .optionalInteger),
                ("yanked", .integer), ("yanked_reason", .optionalText),
            ]
        ),
        ("package_details", [("package_id", .integer), ("details", .text)]),
        ("application_settings", [("name", .text), ("value", .text)]),
        ("reserved_names", [("project_id", .integer), ("normalized_name", .text), ("created_at", .integer)]),
        ("upstream_blobs", [("sha256", .text), ("size", .integer), ("cached_at", .integer)]),
        // Who changed what stays with the registry: a move or a backup keeps its history.
        (
            "audit_events",
            [
                ("id", .integer), ("created_at", .integer), ("author_id", .integer), ("author_name", .text), ("entity_type", .text),
                ("entity_id", .integer), ("entity_path", .text), ("event_name", .text), ("target_type", .optionalText),
                ("target_id", .optionalInteger), ("target_details", .optionalText), ("ip_address", .optionalText), ("details", .text),
            ]
        ),
    ]

    /// The tables left out, on purpose: `upstream_pages` is a cache (the target fetches those pages
    /// again when asked); `web_sessions` and `sign_in_failures` are not copied (a moved or restored
    /// registry signs its users in again); `schema_migrations` is the target's own. A test checks
    /// that every table of the schema is either copied or here, so a new one cannot be forgotten.
    static let uncopiedTables: Set<String> = ["upstream_pages", "web_sessions", "sign_in_failures", "schema_migrations"]

    /// The order tables without an `id` are read in (a snapshot, so pages by offset are consistent).
    static let orderOfKeylessTables = [
        "package_details": "package_id", "application_settings": "name", "reserved_names": "project_id, normalized_name", "upstream_blobs": "sha256",
    ]

    static let batchSize = 500

    /// Copies `source` into `target`; returns the number of rows copied per table, in copy order.
    /// The source is read as of one moment (one read-only transaction), so a registry still in use
    /// is copied consistently; what it takes afterwards is not in the copy. Refuses a target that
    /// already holds users: merging two registries is not a copy.
    public static func copy(from source: MetadataDatabase, to target: MetadataDatabase) async throws -> [(table: String, rows: Int)] {
        try await source.snapshot { sourceDB in
            try await self.copy(from: sourceDB, to: target)
        }
    }

    private static func copy(from sourceDB: any SQLDatabase, to target: MetadataDatabase) async throws -> [(table: String, rows: Int)] {
        try await target.transaction(locking: [.schema, .paths, .blobs], unbounded: true) { targetDB in
            let existing = try await targetDB.raw("SELECT count(*) AS n FROM users").first()!.decode(column: "n", as: Int.self)
            guard existing == 0 else {
                throw RegistryError.conflict("The target database already holds \(existing) users; migrate-data copies into an empty registry only")
            }
            var counts: [(table: String, rows: Int)] = []
            for (table, columns) in self.tables {
                var copied = 0
                if let order = self.orderOfKeylessTables[table] {
                    while true {
                        let rows = try await sourceDB.raw(
                            """
                            SELECT * FROM \(unsafeRaw: table) ORDER BY \(unsafeRaw: order) LIMIT \(bind: self.batchSize) OFFSET \(bind: copied)
                            """
                        ).all()
                        guard !rows.isEmpty else { break }
                        try await targetDB.raw(try self.insert(rows, into: table, columns: columns)).run()
                        copied += rows.count
                    }
                    counts.append((table, copied))
                    continue
                }
                var lastID: Int64 = 0
                while true {
                    let rows = try await sourceDB.raw(
                        """
                        SELECT * FROM \(unsafeRaw: table) WHERE id > \(bind: lastID) ORDER BY id LIMIT \(bind: self.batchSize)
                        """
                    ).all()
                    guard let last = rows.last else { break }
                    try await targetDB.raw(try self.insert(rows, into: table, columns: columns)).run()
                    copied += rows.count
                    lastID = try last.decode(column: "id", as: Int64.self)
                }
                if let statement = target.dialect.statementRestartingIdentity(of: table) {
                    try await targetDB.raw(SQLQueryString(statement)).run()
                }
                counts.append((table, copied))
            }
            return counts
        }
    }

    private static func insert(_ rows: [any SQLRow], into table: String, columns: [(String, ColumnType)]) throws -> SQLQueryString {
        var query = SQLQueryString("INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: columns.map(\.0).joined(separator: ", "))) VALUES ")
        for (index, row) in rows.enumerated() {
            query.appendLiteral(index == 0 ? "(" : ", (")
            for (position, (column, type)) in columns.enumerated() {
                if position > 0 { query.appendLiteral(", ") }
                switch type {
                case .integer: query.appendInterpolation(bind: try row.decode(column: column, as: Int64.self))
                case .text: query.appendInterpolation(bind: try row.decode(column: column, as: String.self))
                case .optionalInteger: query.appendInterpolation(bind: try row.decode(column: column, as: Int64?.self))
                case .optionalText: query.appendInterpolation(bind: try row.decode(column: column, as: String?.self))
                }
            }
            query.appendLiteral(")")
        }
        return query
    }
}
