import SQLKit

/// Versioned schema migrations. Each step runs once, in its own transaction, in order; the version
/// reached is recorded in `schema_migrations`. A database written by a newer Wheelhouse (a version
/// this binary does not know) is refused rather than guessed at.
enum Schema {
    struct Migration: Sendable {
        var version: Int
        var statements: [String]
    }

    /// The migrations, in order, written for `dialect`: only column types differ between databases.
    static func migrations(for dialect: DatabaseDialect) -> [Migration] {
        let primaryKey = dialect.primaryKey
        let sortableText = dialect.sortableText
        return [
            Migration(
                version: 1,
                statements: [
                    """
                    CREATE TABLE users (
                        id \(primaryKey),
                        username TEXT NOT NULL,
                        is_admin INTEGER NOT NULL DEFAULT 0,
                        created_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE UNIQUE INDEX users_username ON users (lower(username))",
                    """
                    CREATE TABLE namespaces (
                        id \(primaryKey),
                        kind TEXT NOT NULL,
                        parent_id BIGINT REFERENCES namespaces (id),
                        path \(sortableText) NOT NULL,
                        full_path \(sortableText) NOT NULL,
                        name TEXT NOT NULL,
                        visibility TEXT NOT NULL,
                        owner_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
                        created_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE UNIQUE INDEX namespaces_full_path ON namespaces (lower(full_path))",
                    "CREATE INDEX namespaces_parent ON namespaces (parent_id)",
                    """
                    CREATE TABLE projects (
                        id \(primaryKey),
                        namespace_id BIGINT NOT NULL REFERENCES namespaces (id),
                        path TEXT NOT NULL,
                        path_with_namespace TEXT NOT NULL,
                        name TEXT NOT NULL,
                        visibility TEXT NOT NULL,
                        created_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE UNIQUE INDEX projects_path ON projects (lower(path_with_namespace))",
                    "CREATE INDEX projects_namespace ON projects (namespace_id)",
                    """
                    CREATE TABLE members (
                        id \(primaryKey),
                        source_kind TEXT NOT NULL,
                        source_id BIGINT NOT NULL,
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        access_level INTEGER NOT NULL,
                        created_at BIGINT NOT NULL,
                        UNIQUE (source_kind, source_id, user_id)
                    )
                    """,
                    "CREATE INDEX members_user ON members (user_id)",
                    """
                    CREATE TABLE personal_access_tokens (
                        id \(primaryKey),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        token_digest TEXT NOT NULL UNIQUE,
                        scopes TEXT NOT NULL,
                        expires_at TEXT,
                        revoked INTEGER NOT NULL DEFAULT 0,
                        created_at BIGINT NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE deploy_tokens (
                        id \(primaryKey),
                        source_kind TEXT NOT NULL,
                        source_id BIGINT NOT NULL,
                        name TEXT NOT NULL,
                        username TEXT NOT NULL,
                        token_digest TEXT NOT NULL UNIQUE,
                        scopes TEXT NOT NULL,
                        expires_at TEXT,
                        revoked INTEGER NOT NULL DEFAULT 0,
                        created_at BIGINT NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE packages (
                        id \(primaryKey),
                        project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
                        name \(sortableText) NOT NULL,
                        normalized_name \(sortableText) NOT NULL,
                        version TEXT NOT NULL,
                        canonical_version \(sortableText) NOT NULL,
                        created_at BIGINT NOT NULL,
                        UNIQUE (project_id, normalized_name, canonical_version)
                    )
                    """,
                    """
                    CREATE TABLE package_files (
                        id \(primaryKey),
                        package_id BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
                        project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
                        file_name TEXT NOT NULL,
                        size BIGINT NOT NULL,
                        sha256 TEXT NOT NULL,
                        md5 TEXT NOT NULL,
                        blake2b_256 TEXT NOT NULL,
                        requires_python TEXT,
                        uploaded_at BIGINT NOT NULL,
                        UNIQUE (project_id, file_name)
                    )
                    """,
                    "CREATE INDEX package_files_package ON package_files (package_id)",
                    "CREATE INDEX package_files_sha256 ON package_files (sha256)",
                ]
            ),
            // Index standards: PEP 658 core metadata of each file, PEP 592 yanking.
            Migration(
                version: 2,
                statements: [
                    "ALTER TABLE package_files ADD COLUMN metadata_sha256 TEXT",
                    "ALTER TABLE package_files ADD COLUMN metadata_size BIGINT",
                    "ALTER TABLE package_files ADD COLUMN yanked INTEGER NOT NULL DEFAULT 0",
                    "ALTER TABLE package_files ADD COLUMN yanked_reason TEXT",
                ]
            ),
            // REST API: descriptions of groups and projects.
            Migration(
                version: 3,
                statements: [
                    "ALTER TABLE namespaces ADD COLUMN description TEXT NOT NULL DEFAULT ''",
                    "ALTER TABLE projects ADD COLUMN description TEXT NOT NULL DEFAULT ''",
                ]
            ),
            // Page caching: a project's packages_version changes in the same transaction as anything
            // its simple pages show, so a cached page is checked against it with one query.
            Migration(
                version: 4,
                statements: [
                    "ALTER TABLE projects ADD COLUMN packages_version BIGINT NOT NULL DEFAULT 0"
                ]
            ),
            // The upstream index (issue 12): instance settings, a per-group forwarding override (NULL
            // inherits), names that once had a package and so never forward, and the upstream's
            // project pages and files as cached, shared by every instance over this database. A page
            // is keyed by its name alone: pointing the settings at another upstream (or at a closed
            // port, when the upstream is gone) keeps serving what was cached.
            Migration(
                version: 5,
                statements: [
                    "CREATE TABLE application_settings (name \(sortableText) PRIMARY KEY, value TEXT NOT NULL)",
                    "ALTER TABLE namespaces ADD COLUMN pypi_forwarding INTEGER",
                    """
                    CREATE TABLE reserved_names (
                        project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
                        normalized_name \(sortableText) NOT NULL,
                        created_at BIGINT NOT NULL,
                        PRIMARY KEY (project_id, normalized_name)
                    )
                    """,
                    """
                    CREATE TABLE upstream_pages (
                        normalized_name \(sortableText) PRIMARY KEY,
                        upstream TEXT NOT NULL,
                        page TEXT NOT NULL,
                        entity_tag TEXT,
                        last_modified TEXT,
                        fetched_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE TABLE upstream_blobs (sha256 \(sortableText) PRIMARY KEY, size BIGINT NOT NULL, cached_at BIGINT NOT NULL)",
                ]
            ),
            // The web interface (issue 14): passwords (scrypt, see PasswordHasher), browser sessions
            // (kept by the sha256 of their id, as tokens are), failed sign-ins counted per account and
            // per address (in the database, so every instance throttles alike), and what a release's
            // page and search show (its summary in `packages`, the rest of its metadata as JSON in `package_details`), written at upload.
            Migration(
                version: 6,
                statements: [
                    "ALTER TABLE users ADD COLUMN password_hash TEXT",
                    """
                    CREATE TABLE web_sessions (
                        id_digest \(sortableText) PRIMARY KEY,
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        created_at BIGINT NOT NULL,
                        last_seen_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE INDEX web_sessions_user ON web_sessions (user_id)",
                    """
                    CREATE TABLE sign_in_failures (
                        throttle_key \(sortableText) PRIMARY KEY,
                        failures INTEGER NOT NULL,
                        window_start BIGINT NOT NULL
                    )
                    """,
                    "ALTER TABLE packages ADD COLUMN summary TEXT NOT NULL DEFAULT ''",
                    // A table of its own: details hold READMEs, and in `packages` they would make
                    // every row that search scans long.
                    """
                    CREATE TABLE package_details (
                        package_id BIGINT PRIMARY KEY REFERENCES packages (id) ON DELETE CASCADE,
                        details TEXT NOT NULL
                    )
                    """,
                ]
            ),
            // Audit events (issue 15): who changed what, written in the transaction of the change.
            // No foreign keys: an event outlives the user, group or project it names. Listings are
            // newest first within one entity (the first index) or across the instance by time.
            Migration(
                version: 7,
                statements: [
                    """
                    CREATE TABLE audit_events (
                        id \(primaryKey),
                        created_at BIGINT NOT NULL,
                        author_id BIGINT NOT NULL,
                        author_name TEXT NOT NULL,
                        entity_type \(sortableText) NOT NULL,
                        entity_id BIGINT NOT NULL,
                        entity_path TEXT NOT NULL,
                        event_name TEXT NOT NULL,
                        target_type TEXT,
                        target_id BIGINT,
                        target_details TEXT,
                        ip_address TEXT,
                        details TEXT NOT NULL
                    )
                    """,
                    "CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, id)",
                    "CREATE INDEX audit_events_created_at ON audit_events (created_at)",
                ]
            ),
        ]
    }

    static var latestVersion: Int { migrations(for: .sqlite).last?.version ?? 0 }

    /// The version the database's schema is at (0 for an empty database).
    static func version(of database: MetadataDatabase) async throws -> Int {
        try await database.read { db in try await self.version(in: db) }
    }

    /// The highest version recorded in `schema_migrations` (0 when none is).
    private static func version(in db: any SQLDatabase) async throws -> Int {
        try await db.raw("SELECT COALESCE(max(version), 0) AS version FROM schema_migrations").first()?
            .decode(column: "version", as: Int.self) ?? 0
    }

    /// Brings the schema up to date in one transaction that holds the schema lock, so that two
    /// processes starting at once migrate once; returns the version reached.
    static func migrate(_ database: MetadataDatabase) async throws -> Int {
        let migrations = self.migrations(for: database.dialect)
        return try await database.transaction(locking: [.schema], unbounded: true) { db in
            try await db.raw("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)").run()
            let current = try await self.version(in: db)
            guard current <= latestVersion else {
                throw RegistryError.unsupportedSchema(found: current, known: latestVersion)
            }
            for migration in migrations where migration.version > current {
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw(
                    """
                    INSERT INTO schema_migrations (version, applied_at) VALUES (\(bind: migration.version), \(bind: Timestamp.now().microseconds))
                    """
                ).run()
            }
            return max(current, latestVersion)
        }
    }
}
