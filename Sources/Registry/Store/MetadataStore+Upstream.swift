import SQLKit

/// A name reserved against forwarding in a project: it once had a package there.
public struct ReservedName: Sendable, Equatable {
    public var normalizedName: String
    public var createdAt: Timestamp
}

/// An upstream project page as cached: the page and what revalidating it needs.
struct CachedUpstreamPage: Sendable {
    var page: String
    var entityTag: String?
    var lastModified: String?
    var fetchedAt: Timestamp
}

/// Rows of the upstream feature: settings, forwarding overrides, reserved names, cached pages and files.
extension MetadataStore {
    // MARK: Settings

    func settingsRows() async throws -> [String: String] {
        try await self.database.read { db in
            var values: [String: String] = [:]
            for row in try await db.raw("SELECT name, value FROM application_settings").all() {
                values[try row.decode(column: "name", as: String.self)] = try row.decode(column: "value", as: String.self)
            }
            return values
        }
    }

    /// Replaces every settings row at once: a reader sees the old settings or the new, never a mix.
    /// `audit` is given the rows as they were.
    func saveSettingsRows(_ rows: [String: String?], audit: @escaping Audit<[String: String]>) async throws {
        try await self.database.transaction { db in
            var old: [String: String] = [:]
            for row in try await db.raw("SELECT name, value FROM application_settings").all() {
                old[try row.decode(column: "name", as: String.self)] = try row.decode(column: "value", as: String.self)
            }
            for (name, value) in rows.sorted(by: { $0.key < $1.key }) {
                try await db.raw("DELETE FROM application_settings WHERE name = \(bind: name)").run()
                if let value {
                    try await db.raw("INSERT INTO application_settings (name, value) VALUES (\(bind: name), \(bind: value))").run()
                }
            }
            try await Self.record(audit(old), db)
        }
    }

    // MARK: Forwarding
    // A group's override is set by `updateGroup`, which records the change.

    /// The override of the nearest namespace, from `namespaceID` up, that has one; nil when none has.
    func nearestForwardingOverride(from namespaceID: NamespaceID) async throws -> Bool? {
        try await self.database.read { db in
            try await db.raw(
                """
                WITH RECURSIVE chain (id, parent_id, pypi_forwarding, depth) AS (
                    SELECT id, parent_id, pypi_forwarding, 0 FROM namespaces WHERE id = \(bind: namespaceID)
                    UNION ALL
                    SELECT n.id, n.parent_id, n.pypi_forwarding, chain.depth + 1
                    FROM namespaces n JOIN chain ON n.id = chain.parent_id
                )
                SELECT pypi_forwarding FROM chain WHERE pypi_forwarding IS NOT NULL ORDER BY depth LIMIT 1
                """
            ).first().map { try $0.decode(column: "pypi_forwarding", as: Int.self) != 0 }
        }
    }

    /// Every project below a group, at any depth, whoever may see it.
    func projectIDs(under group: Namespace) async throws -> [ProjectID] {
        // Paths hold `_`, a LIKE wildcard: escape it (and `%`, `\\`) so that `acme_x` is not below `acme`.
        let escaped = group.fullPath.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return try await self.database.read { db in
            try await db.raw(
                """
                SELECT p.id FROM projects p JOIN namespaces n ON n.id = p.namespace_id
                WHERE n.id = \(bind: group.id) OR lower(n.full_path) LIKE \(bind: escaped + "/%") ESCAPE '\\'
                """
            ).all().map { try $0.decode(column: "id", as: Int64.self) }
        }
    }

    /// Whether any of the projects has, or once had, a package of this name.
    func nameIsTaken(_ normalizedName: String, in projectIDs: [ProjectID]) async throws -> Bool {
        guard !projectIDs.isEmpty else { return false }
        return try await self.database.read { db in
            try await db.raw(
                """
                SELECT 1 AS x FROM packages WHERE project_id IN (\(binds: projectIDs)) AND normalized_name = \(bind: normalizedName)
                UNION ALL
                SELECT 1 AS x FROM reserved_names WHERE project_id IN (\(binds: projectIDs)) AND normalized_name = \(bind: normalizedName)
                LIMIT 1
                """
            ).first() != nil
        }
    }

    // MARK: Reserved names

    func reservedNames(in projectID: ProjectID) async throws -> [ReservedName] {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM reserved_names WHERE project_id = \(bind: projectID) ORDER BY normalized_name").all().map {
                ReservedName(
                    normalizedName: try $0.decode(column: "normalized_name", as: String.self),
                    createdAt: Timestamp(microseconds: try $0.decode(column: "created_at", as: Int64.self))
                )
            }
        }
    }

    /// Clears a reservation; false when there was none.
    func clearReservedName(_ normalizedName: String, in projectID: ProjectID, audit: [AuditEntry]) async throws -> Bool {
        try await self.database.transaction { db in
            let cleared =
                try await db.raw(
                    """
                    DELETE FROM reserved_names WHERE project_id = \(bind: projectID) AND normalized_name = \(bind: normalizedName)
                    RETURNING normalized_name
                    """
                ).first() != nil
            if cleared { try await Self.record(audit, db) }
            return cleared
        }
    }

    /// Reserves the name of a release about to be deleted, in the deletion's transaction.
    static func reserveName(ofPackage packageID: Int64, _ db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO reserved_names (project_id, normalized_name, created_at)
            SELECT project_id, normalized_name, \(bind: Timestamp.now().microseconds) FROM packages WHERE id = \(bind: packageID)
            ON CONFLICT DO NOTHING
            """
        ).run()
    }

    // MARK: Cached upstream pages and files

    func cachedUpstreamPage(_ normalizedName: String) async throws -> CachedUpstreamPage? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM upstream_pages WHERE normalized_name = \(bind: normalizedName)").first().map { row in
                CachedUpstreamPage(
                    page: try row.decode(column: "page", as: String.self),
                    entityTag: try row.decode(column: "entity_tag", as: String?.self),
                    lastModified: try row.decode(column: "last_modified", as: String?.self),
                    fetchedAt: Timestamp(microseconds: try row.decode(column: "fetched_at", as: Int64.self))
                )
            }
        }
    }

    func saveUpstreamPage(_ cached: CachedUpstreamPage, upstream: String, normalizedName: String) async throws {
        try await self.database.transaction { db in
            try await db.raw("DELETE FROM upstream_pages WHERE normalized_name = \(bind: normalizedName)").run()
            try await db.raw(
                """
                INSERT INTO upstream_pages (upstream, normalized_name, page, entity_tag, last_modified, fetched_at)
                VALUES (\(bind: upstream), \(bind: normalizedName), \(bind: cached.page), \(bind: cached.entityTag),
                        \(bind: cached.lastModified), \(bind: cached.fetchedAt.microseconds))
                """
            ).run()
        }
    }

    /// Marks a page as checked now (the upstream answered 304).
    func touchUpstreamPage(_ normalizedName: String, at time: Timestamp) async throws {
        try await self.database.transaction { db in
            try await db.raw(
                "UPDATE upstream_pages SET fetched_at = \(bind: time.microseconds) WHERE normalized_name = \(bind: normalizedName)"
            ).run()
        }
    }

    /// Records a verified upstream file (or its core metadata) kept in the blob store, so that
    /// garbage collection keeps it.
    func recordUpstreamBlob(sha256: String, size: Int64) async throws {
        try await self.database.transaction { db in
            try await db.raw(
                """
                INSERT INTO upstream_blobs (sha256, size, cached_at) VALUES (\(bind: sha256), \(bind: size), \(bind: Timestamp.now().microseconds))
                ON CONFLICT DO NOTHING
                """
            ).run()
        }
    }
}

/// A group's own choice about forwarding: on, off, or the parent's (then the instance's).
public enum ForwardingOverride: String, Sendable, CaseIterable {
    case enabled = "true"
    case disabled = "false"
    case inherit

    var storedValue: Int? {
        switch self {
        case .enabled: 1
        case .disabled: 0
        case .inherit: nil
        }
    }

    init(stored: Int?) {
        self = stored.map { $0 != 0 ? .enabled : .disabled } ?? .inherit
    }

    /// true, false, or nil to inherit.
    public var value: Bool? { self.storedValue.map { $0 != 0 } }
}
