import SQLKit

/// A row that refers to a blob, named the way an operator looks for it: for `fsck`'s problem lines.
public struct BlobUse: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The package file itself.
        case file
        /// The core metadata extracted from it (served as `<file>.metadata`).
        case metadata
        /// A file cached from the upstream index.
        case upstreamCache
    }

    public var kind: Kind
    public var project: String
    public var package: String
    public var version: String
    public var fileName: String

    public var description: String {
        switch self.kind {
        case .file: "project \(self.project), package \(self.package) \(self.version), file \(self.fileName)"
        case .metadata: "project \(self.project), package \(self.package) \(self.version), file \(self.fileName).metadata"
        case .upstreamCache: "the upstream cache"
        }
    }
}

/// The queries of `fsck`, `gc` and `backup`; the walk over every referenced blob is
/// `referencedBlobs(after:limit:)`, shared with `blobs copy`.
extension MetadataStore {
    /// Which of `digests` some row refers to (a file, its metadata, the upstream cache). Asked a
    /// page of the store's listing at a time, so that `gc` and `fsck` make one query per page.
    public func referenced(among digests: [String]) async throws -> Set<String> {
        guard !digests.isEmpty else { return [] }
        return try await self.database.read { db in
            let rows = try await db.raw(
                """
                SELECT sha256 FROM package_files WHERE sha256 IN (\(binds: digests))
                UNION SELECT metadata_sha256 AS sha256 FROM package_files WHERE metadata_sha256 IN (\(binds: digests))
                UNION SELECT sha256 FROM upstream_blobs WHERE sha256 IN (\(binds: digests))
                """
            ).all()
            return Set(try rows.map { try $0.decode(column: "sha256", as: String.self) })
        }
    }

    /// Every row that refers to the blob, as of now.
    public func uses(ofBlob sha256: String) async throws -> [BlobUse] {
        try await self.database.read { db in
            let files = try await db.raw(
                """
                SELECT pr.path_with_namespace, p.name, p.version, f.file_name, f.sha256, f.metadata_sha256
                FROM package_files f JOIN packages p ON p.id = f.package_id JOIN projects pr ON pr.id = f.project_id
                WHERE f.sha256 = \(bind: sha256) OR f.metadata_sha256 = \(bind: sha256)
                ORDER BY pr.path_with_namespace, f.file_name
                """
            ).all().map { row in
                BlobUse(
                    kind: try row.decode(column: "sha256", as: String.self) == sha256 ? .file : .metadata,
                    project: try row.decode(column: "path_with_namespace", as: String.self),
                    package: try row.decode(column: "name", as: String.self),
                    version: try row.decode(column: "version", as: String.self),
                    fileName: try row.decode(column: "file_name", as: String.self)
                )
            }
            let cached = try await db.raw("SELECT sha256 FROM upstream_blobs WHERE sha256 = \(bind: sha256)").first() != nil
            return files + (cached ? [BlobUse(kind: .upstreamCache, project: "", package: "", version: "", fileName: "")] : [])
        }
    }

    /// How many package files, metadata blobs and cached upstream files there are: `fsck`'s summary.
    public func blobUseCounts() async throws -> (files: Int, metadata: Int, upstream: Int) {
        try await self.database.read { db in
            let row = try await db.raw(
                """
                SELECT (SELECT COUNT(*) FROM package_files) AS files,
                       (SELECT COUNT(*) FROM package_files WHERE metadata_sha256 IS NOT NULL) AS metadata,
                       (SELECT COUNT(*) FROM upstream_blobs) AS upstream
                """
            ).first()!
            return (
                Int(try row.decode(column: "files", as: Int64.self)), Int(try row.decode(column: "metadata", as: Int64.self)),
                Int(try row.decode(column: "upstream", as: Int64.self))
            )
        }
    }

    /// The schema version, for a backup's manifest.
    public func schemaVersion() async throws -> Int {
        try await Schema.version(of: self.database)
    }
}
