import SQLKit

/// A file with the release it belongs to, as the simple pages list them.
public struct ListedFile: Sendable, Equatable {
    public var file: PackageFile
    public var package: Package
}

/// One entry of a simple index: a project name and its display form.
public struct ListedPackage: Sendable, Equatable {
    public var name: String
    public var normalizedName: String
    /// `requires_python` of the most recently uploaded file, as GitLab shows on its index pages.
    public var requiresPython: String?
}

/// What happened to an upload.
public enum PublishOutcome: Sendable, Equatable {
    /// A new file was recorded.
    case created(PackageFile)
    /// The same file name with the same bytes was already there: nothing changed.
    case unchanged(PackageFile)
}

extension MetadataStore {
    /// The file of that name in the project, if any.
    func file(projectID: ProjectID, fileName: String) async throws -> PackageFile? {
        try await self.database.read { db in
            try await db.raw(
                """
                SELECT * FROM package_files WHERE project_id = \(bind: projectID) AND file_name = \(bind: fileName)
                """
            ).first()?.packageFile()
        }
    }

    /// The first file with this digest and name among the projects, in the projects' order.
    func file(in projectIDs: [ProjectID], sha256: String, fileName: String) async throws -> PackageFile? {
        guard !projectIDs.isEmpty else { return nil }
        let files = try await self.database.read { db in
            try await db.raw(
                """
                SELECT * FROM package_files WHERE sha256 = \(bind: sha256) AND file_name = \(bind: fileName)
                AND project_id IN (\(binds: projectIDs))
                """
            ).all().map { try $0.packageFile() }
        }
        return projectIDs.lazy.compactMap { id in files.first { $0.projectID == id } }.first
    }

    /// The packages of the projects, one entry per normalised name, sorted by it.
    func listedPackages(in projectIDs: [ProjectID]) async throws -> [ListedPackage] {
        guard !projectIDs.isEmpty else { return [] }
        let rows = try await self.database.read { db in
            try await db.raw(
                """
                SELECT p.name, p.normalized_name, f.requires_python
                FROM packages p JOIN package_files f ON f.package_id = p.id
                WHERE p.project_id IN (\(binds: projectIDs))
                ORDER BY p.normalized_name, f.uploaded_at, f.id
                """
            ).all()
        }
        var listed: [ListedPackage] = []
        for row in rows {
            let normalized = try row.decode(column: "normalized_name", as: String.self)
            let requiresPython = try row.decode(column: "requires_python", as: String?.self)
            if listed.last?.normalizedName == normalized {
                listed[listed.count - 1].requiresPython = requiresPython
            } else {
                listed.append(
                    ListedPackage(
                        name: try row.decode(column: "name", as: String.self),
                        normalizedName: normalized,
                        requiresPython: requiresPython
                    )
                )
            }
        }
        return listed
    }

    /// Every file of the normalised name in the projects, oldest first.
    func listedFiles(in projectIDs: [ProjectID], normalizedName: String) async throws -> [ListedFile] {
        guard !projectIDs.isEmpty else { return [] }
        return try await self.database.read { db in
            try await db.raw(
                """
                SELECT f.*, p.name, p.normalized_name, p.version, p.created_at
                FROM package_files f JOIN packages p ON p.id = f.package_id
                WHERE p.normalized_name = \(bind: normalizedName) AND p.project_id IN (\(binds: projectIDs))
                ORDER BY f.uploaded_at, f.id
                """
            ).all().map { row in
                let file = try row.packageFile()
                return ListedFile(
                    file: file,
                    package: Package(
                        id: file.packageID,
                        projectID: file.projectID,
                        name: try row.decode(column: "name", as: String.self),
                        normalizedName: try row.decode(column: "normalized_name", as: String.self),
                        version: try row.decode(column: "version", as: String.self),
                        createdAt: Timestamp(microseconds: try row.decode(column: "created_at", as: Int64.self))
                    )
                )
            }
        }
    }

    /// Records a file whose blob is already stored, creating its release if it is the first file of it.
    /// A name already taken gives `.unchanged` for the same bytes and `fileNameTaken` for others.
    func recordFile(
        projectID: ProjectID,
        name: String,
        normalizedName: String,
        version: String,
        canonicalVersion: String,
        fileName: String,
        size: Int64,
        digests: FileDigests,
        requiresPython: String?,
        coreMetadata: BlobReference?,
        details: ReleaseDetails? = nil,
        placeBlobs: @escaping @Sendable () async throws -> Void,
        audit: @escaping Audit<PackageFile>
    ) async throws -> PublishOutcome {
        do {
            // The blob lock serialises recording with garbage collection (blobs move into place under it,
            // so a concurrent delete cannot remove content this row is about to reference) and with
            // other uploads, so the check for an existing name below cannot race.
            return try await self.database.transaction(locking: [.blobs]) { db in
                if let existing = try await db.raw(
                    """
                    SELECT * FROM package_files WHERE project_id = \(bind: projectID) AND file_name = \(bind: fileName)
                    """
                ).first()?.packageFile() {
                    return try PackageRules.outcome(ofRecording: digests, over: existing)
                }
                try await placeBlobs()
                let now = Timestamp.now().microseconds
                // Another file of the same release may be recorded (or the release deleted) at the same
                // moment: the upsert returns the release's id whichever happened first.
                guard
                    let release = try await db.raw(
                        """
                        INSERT INTO packages (project_id, name, normalized_name, version, canonical_version, created_at, summary)
                        VALUES (\(bind: projectID), \(bind: name), \(bind: normalizedName), \(bind: version),
                                \(bind: canonicalVersion), \(bind: now), \(bind: details?.summary ?? ""))
                        ON CONFLICT (project_id, normalized_name, canonical_version) DO UPDATE SET name = packages.name
                        RETURNING id
                        """
                    ).first()
                else { throw RegistryError.conflict("The release changed while the file was being recorded; try again") }
                let packageID = try release.decode(column: "id", as: Int64.self)
                // The release's first file with details gives them (later files of it keep them).
                if let details {
                    let inserted = try await db.raw(
                        """
                        INSERT INTO package_details (package_id, details) VALUES (\(bind: packageID), \(bind: details.stored))
                        ON CONFLICT (package_id) DO NOTHING RETURNING package_id
                        """
                    ).first()
                    if inserted != nil {
                        try await db.raw("UPDATE packages SET summary = \(bind: details.summary) WHERE id = \(bind: packageID)").run()
                    }
                }
                try await Self.bumpPackagesVersion(db, projectID: projectID)
                let file = try await db.raw(
                    """
                    INSERT INTO package_files (package_id, project_id, file_name, size, sha256, md5, blake2b_256, requires_python,
                                               uploaded_at, metadata_sha256, metadata_size, yanked)
                    VALUES (\(bind: packageID), \(bind: projectID), \(bind: fileName), \(bind: size), \(bind: digests.sha256),
                            \(bind: digests.md5), \(bind: digests.blake2b256), \(bind: requiresPython), \(bind: now),
                            \(bind: coreMetadata?.sha256), \(bind: coreMetadata?.size), 0)
                    RETURNING *
                    """
                ).first()!.packageFile()
                try await Self.record(audit(file), db)
                return .created(file)
            }
        } catch  where DatabaseDialect.isUniqueViolation(error) {
            // Only reachable if the lock above is ever bypassed; the unique index still has the last word.
            guard let existing = try await self.file(projectID: projectID, fileName: fileName) else { throw error }
            return try PackageRules.outcome(ofRecording: digests, over: existing)
        }
    }

    /// Marks the project's packages as changed, inside the writing transaction.
    static func bumpPackagesVersion(_ db: any SQLDatabase, projectID: ProjectID) async throws {
        try await db.raw("UPDATE projects SET packages_version = packages_version + 1 WHERE id = \(bind: projectID)").run()
    }

    /// The current packages_version of each project: what cached pages are checked against.
    func packagesVersions(of projectIDs: [ProjectID]) async throws -> [ProjectID: Int64] {
        guard !projectIDs.isEmpty else { return [:] }
        return try await self.database.read { db in
            var versions: [ProjectID: Int64] = [:]
            for row in try await db.raw("SELECT id, packages_version FROM projects WHERE id IN (\(binds: projectIDs))").all() {
                versions[try row.decode(column: "id", as: Int64.self)] = try row.decode(column: "packages_version", as: Int64.self)
            }
            return versions
        }
    }

    /// Yanks (with a reason) or unyanks every file of a release, or one of its files; returns the
    /// names of the files it matched. The change is one statement, so it is all or nothing.
    func setYank(
        _ yank: Yank?,
        projectID: ProjectID,
        normalizedName: String,
        canonicalVersion: String,
        fileName: String?,
        audit: @escaping Audit<[String]>
    ) async throws -> [String] {
        try await self.database.transaction { db in
            var query = SQLQueryString(
                """
                UPDATE package_files SET yanked = \(bind: yank == nil ? 0 : 1), yanked_reason = \(bind: yank?.reason)
                WHERE package_id IN (SELECT id FROM packages WHERE project_id = \(bind: projectID)
                    AND normalized_name = \(bind: normalizedName) AND canonical_version = \(bind: canonicalVersion))
                """
            )
            if let fileName {
                query.appendLiteral(" AND file_name = ")
                query.appendInterpolation(bind: fileName)
            }
            query.appendLiteral(" RETURNING file_name")
            let files = try await db.raw(query).all().map { try $0.decode(column: "file_name", as: String.self) }.sorted()
            try await Self.bumpPackagesVersion(db, projectID: projectID)
            if !files.isEmpty { try await Self.record(audit(files), db) }
            return files
        }
    }
}
