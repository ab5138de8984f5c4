import SQLKit

/// A release as lists show it (home page, search, a project's packages).
public struct ReleaseSummary: Sendable, Equatable {
    public var packageID: Int64
    public var projectID: ProjectID
    public var name: String
    public var normalizedName: String
    public var version: String
    public var summary: String
    /// When its newest file was uploaded.
    public var uploadedAt: Timestamp
    /// Every file of it is yanked.
    public var yanked: Bool
}

/// A release's stored details (nil for one recorded before they were kept, or by bulk load).
struct StoredReleaseDetails: Sendable {
    var packageID: Int64
    var details: ReleaseDetails?
}

extension MetadataStore {
    /// Releases of the projects, newest upload first, at most `limit`; optionally only those whose
    /// normalised name contains `nameFragment` or whose summary contains every one of `words`.
    func releaseSummaries(
        in projectIDs: [ProjectID],
        nameFragment: String? = nil,
        words: [String] = [],
        limit: Int
    ) async throws -> [ReleaseSummary] {
        guard !projectIDs.isEmpty else { return [] }
        // A package matches when any of its releases does (a name is the same in all of them; a
        // summary may change): every release of it is returned, so its latest can be chosen.
        var filter = SQLQueryString("")
        if let nameFragment {
            var match: SQLQueryString = "m.normalized_name LIKE \(bind: Self.likePattern(nameFragment)) ESCAPE '!'"
            if !words.isEmpty {
                match = match + " OR (1 = 1"
                for word in words { match = match + " AND lower(m.summary) LIKE \(bind: Self.likePattern(word.lowercased())) ESCAPE '!'" }
                match = match + ")"
            }
            filter =
                "AND (p.project_id, p.normalized_name) IN (SELECT m.project_id, m.normalized_name FROM packages m WHERE m.project_id IN (\(binds: projectIDs)) AND ("
                + match + "))"
        }
        let query: SQLQueryString =
            """
            SELECT p.id, p.project_id, p.name, p.normalized_name, p.version, p.summary,
                   MAX(f.uploaded_at) AS uploaded_at, MIN(f.yanked) AS all_yanked
            FROM packages p JOIN package_files f ON f.package_id = p.id
            WHERE p.project_id IN (\(binds: projectIDs)) \(filter)
            GROUP BY p.id, p.project_id, p.name, p.normalized_name, p.version, p.summary
            ORDER BY uploaded_at DESC, p.id DESC
            LIMIT \(bind: limit)
            """
        return try await self.database.read { db in
            try await db.raw(query).all().map { row in
                ReleaseSummary(
                    packageID: try row.decode(column: "id", as: Int64.self),
                    projectID: try row.decode(column: "project_id", as: Int64.self),
                    name: try row.decode(column: "name", as: String.self),
                    normalizedName: try row.decode(column: "normalized_name", as: String.self),
                    version: try row.decode(column: "version", as: String.self),
                    summary: try row.decode(column: "summary", as: String.self),
                    uploadedAt: Timestamp(microseconds: try row.decode(column: "uploaded_at", as: Int64.self)),
                    yanked: try row.decode(column: "all_yanked", as: Int64.self) != 0
                )
            }
        }
    }

    /// `%text%` for LIKE, with `!` escaping LIKE's own wildcards in `text`.
    static func likePattern(_ text: String) -> String {
        var pattern = "%"
        for character in text {
            if character == "%" || character == "_" || character == "!" { pattern.append("!") }
            pattern.append(character)
        }
        return pattern + "%"
    }

    func releaseDetails(packageID: Int64) async throws -> ReleaseDetails? {
        try await self.database.read { db in
            let row = try await db.raw("SELECT details FROM package_details WHERE package_id = \(bind: packageID)").first()
            return ReleaseDetails(stored: try row?.decode(column: "details", as: String?.self))
        }
    }

    func releaseDetails(projectID: ProjectID, normalizedName: String) async throws -> [StoredReleaseDetails] {
        try await self.database.read { db in
            try await db.raw(
                """
                SELECT p.id, d.details FROM packages p LEFT JOIN package_details d ON d.package_id = p.id
                WHERE p.project_id = \(bind: projectID) AND p.normalized_name = \(bind: normalizedName)
                """
            ).all().map { row in
                StoredReleaseDetails(
                    packageID: try row.decode(column: "id", as: Int64.self),
                    details: ReleaseDetails(stored: try row.decode(column: "details", as: String?.self))
                )
            }
        }
    }
}
