import SQLKit

/// One page of a listing, and how many there are in all.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var total: Int
}

/// Where a listing starts and how long it is.
public struct PageRequest: Sendable, Equatable {
    public var page: Int
    public var perPage: Int

    public init(page: Int, perPage: Int) {
        self.page = max(1, page)
        self.perPage = min(max(1, perPage), 100)
    }

    var offset: Int { (self.page - 1) * self.perPage }
}

/// Listing, changing and deleting users, tokens, groups, projects, members and deploy tokens.
extension MetadataStore {
    // MARK: Users

    func users(username: String?, page: PageRequest) async throws -> Page<User> {
        try await self.database.read { db in
            var filter = SQLQueryString("")
            if let username { filter = "WHERE lower(username) = lower(\(bind: username))" }
            let total = try await db.raw("SELECT count(*) AS n FROM users \(filter)").first()!.decode(column: "n", as: Int.self)
            let items = try await db.raw("SELECT * FROM users \(filter) ORDER BY id LIMIT \(bind: page.perPage) OFFSET \(bind: page.offset)")
                .all().map { try $0.user() }
            return Page(items: items, total: total)
        }
    }

    /// Deletes a user with their personal namespace, its projects and everything in them; returns the
    /// digests of blobs that may now be unreferenced. `audit` is given the number of projects deleted.
    func deleteUser(_ user: User, audit: @escaping Audit<Int>) async throws -> [String] {
        try await self.database.transaction { db in
            let namespaces = try await db.raw("SELECT id FROM namespaces WHERE owner_id = \(bind: user.id)").all()
                .map { try $0.decode(column: "id", as: Int64.self) }
            var digests: [String] = []
            var projects = 0
            for namespace in namespaces {
                let deleted = try await Self.deleteProjects(db, where: "namespace_id = \(bind: namespace)")
                digests += deleted.digests
                projects += deleted.projects
                try await db.raw("DELETE FROM members WHERE source_kind = 'namespace' AND source_id = \(bind: namespace)").run()
                try await db.raw("DELETE FROM namespaces WHERE id = \(bind: namespace)").run()
            }
            try await db.raw("DELETE FROM users WHERE id = \(bind: user.id)").run()
            try await Self.record(audit(projects), db)
            return digests
        }
    }

    // MARK: Personal access tokens

    func personalAccessTokens(userID: UserID?, page: PageRequest) async throws -> Page<PersonalAccessToken> {
        try await self.database.read { db in
            var filter = SQLQueryString("")
            if let userID { filter = "WHERE user_id = \(bind: userID)" }
            let total = try await db.raw("SELECT count(*) AS n FROM personal_access_tokens \(filter)").first()!.decode(column: "n", as: Int.self)
            let items = try await db.raw(
                """
                SELECT * FROM personal_access_tokens \(filter) ORDER BY id LIMIT \(bind: page.perPage) OFFSET \(bind: page.offset)
                """
            ).all().map { try $0.personalAccessToken() }
            return Page(items: items, total: total)
        }
    }

    func personalAccessToken(id: Int64) async throws -> PersonalAccessToken? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM personal_access_tokens WHERE id = \(bind: id)").first()?.personalAccessToken()
        }
    }

    func revokePersonalAccessToken(id: Int64, audit: [AuditEntry]) async throws {
        try await self.database.transaction { db in
            try await db.raw("UPDATE personal_access_tokens SET revoked = 1 WHERE id = \(bind: id)").run()
            try await Self.record(audit, db)
        }
    }

    /// Revokes a token and issues its successor (same user, name, scopes, expiry) in one transaction.
    func rotatePersonalAccessToken(
        _ token: PersonalAccessToken,
        newDigest: String,
        expiresAt: Day?,
        audit: @escaping Audit<PersonalAccessToken>
    ) async throws -> PersonalAccessToken {
        try await self.database.transaction { db in
            try await db.raw("UPDATE personal_access_tokens SET revoked = 1 WHERE id = \(bind: token.id)").run()
            let rotated = try await db.raw(
                """
                INSERT INTO personal_access_tokens (user_id, name, token_digest, scopes, expires_at, revoked, created_at)
                VALUES (\(bind: token.userID), \(bind: token.name), \(bind: newDigest), \(bind: token.scopes.stored),
                        \(bind: expiresAt?.iso8601), 0, \(bind: Timestamp.now().microseconds))
                RETURNING *
                """
            ).first()!.personalAccessToken()
            try await Self.record(audit(rotated), db)
            return rotated
        }
    }

    // MARK: Groups and projects

    func groups(page: PageRequest, visibleTo filter: (Namespace) async throws -> Bool) async throws -> Page<Namespace> {
        let all = try await self.database.read { db in
            try await db.raw("SELECT * FROM namespaces WHERE kind = 'group' ORDER BY full_path").all().map { try $0.namespace() }
        }
        var visible: [Namespace] = []
        for group in all where try await filter(group) { visible.append(group) }
        return Page(items: Array(visible.dropFirst(page.offset).prefix(page.perPage)), total: visible.count)
    }

    func subgroups(of parent: NamespaceID) async throws -> [Namespace] {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM namespaces WHERE parent_id = \(bind: parent) ORDER BY path").all().map { try $0.namespace() }
        }
    }

    func allProjects() async throws -> [Project] {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM projects ORDER BY id").all().map { try $0.project() }
        }
    }

    /// Changes the fields given (nil: unchanged); `audit` is given the group before and after.
    func updateGroup(
        _ id: NamespaceID,
        name: String?,
        visibility: Visibility?,
        description: String? = nil,
        forwarding: ForwardingOverride? = nil,
        audit: @escaping Audit<(before: Namespace, after: Namespace)>
    ) async throws -> Namespace {
        try await self.database.transaction { db in
            guard let before = try await db.raw("SELECT * FROM namespaces WHERE id = \(bind: id)").first()?.namespace() else {
                throw RegistryError.notFound("404 Group Not Found")
            }
            if let forwarding {
                try await db.raw("UPDATE namespaces SET pypi_forwarding = \(bind: forwarding.storedValue) WHERE id = \(bind: id)").run()
            }
            if let description { try await db.raw("UPDATE namespaces SET description = \(bind: description) WHERE id = \(bind: id)").run() }
            if let name { try await db.raw("UPDATE namespaces SET name = \(bind: name) WHERE id = \(bind: id)").run() }
            if let visibility { try await db.raw("UPDATE namespaces SET visibility = \(bind: visibility.rawValue) WHERE id = \(bind: id)").run() }
            guard let after = try await db.raw("SELECT * FROM namespaces WHERE id = \(bind: id)").first()?.namespace() else {
                throw RegistryError.notFound("404 Group Not Found")
            }
            try await Self.record(audit((before, after)), db)
            return after
        }
    }

    /// Changes the fields given (nil: unchanged); `audit` is given the project before and after.
    func updateProject(
        _ id: ProjectID,
        name: String?,
        visibility: Visibility?,
        description: String? = nil,
        audit: @escaping Audit<(before: Project, after: Project)>
    ) async throws -> Project {
        try await self.database.transaction { db in
            guard let before = try await db.raw("SELECT * FROM projects WHERE id = \(bind: id)").first()?.project() else {
                throw RegistryError.notFound("404 Project Not Found")
            }
            if let description { try await db.raw("UPDATE projects SET description = \(bind: description) WHERE id = \(bind: id)").run() }
            if let name { try await db.raw("UPDATE projects SET name = \(bind: name) WHERE id = \(bind: id)").run() }
            if let visibility { try await db.raw("UPDATE projects SET visibility = \(bind: visibility.rawValue) WHERE id = \(bind: id)").run() }
            guard let after = try await db.raw("SELECT * FROM projects WHERE id = \(bind: id)").first()?.project() else {
                throw RegistryError.notFound("404 Project Not Found")
            }
            try await Self.record(audit((before, after)), db)
            return after
        }
    }

    /// Deletes a group, its subgroups and their projects, members and deploy tokens; returns the
    /// digests of blobs that may now be unreferenced. `audit` is given the number of projects deleted.
    func deleteGroup(_ group: Namespace, audit: @escaping Audit<Int>) async throws -> [String] {
        let prefix = group.fullPath.lowercased() + "/"
        return try await self.database.transaction { db in
            let ids = try await db.raw(
                """
                SELECT id FROM namespaces WHERE id = \(bind: group.id)
                   OR substr(lower(full_path), 1, CAST(\(bind: prefix.utf8.count) AS INTEGER)) = \(bind: prefix)
                ORDER BY length(full_path) DESC
                """
            ).all().map { try $0.decode(column: "id", as: Int64.self) }
            var digests: [String] = []
            var projects = 0
            for id in ids {
                let deleted = try await Self.deleteProjects(db, where: "namespace_id = \(bind: id)")
                digests += deleted.digests
                projects += deleted.projects
                try await db.raw("DELETE FROM members WHERE source_kind = 'namespace' AND source_id = \(bind: id)").run()
                try await db.raw("DELETE FROM deploy_tokens WHERE source_kind = 'namespace' AND source_id = \(bind: id)").run()
                try await db.raw("DELETE FROM namespaces WHERE id = \(bind: id)").run()
            }
            try await Self.record(audit(projects), db)
            return digests
        }
    }

    func deleteProject(_ project: Project, audit: [AuditEntry]) async throws -> [String] {
        try await self.database.transaction { db in
            let digests = try await Self.deleteProjects(db, where: "id = \(bind: project.id)").digests
            try await Self.record(audit, db)
            return digests
        }
    }

    /// Deletes the matching projects with their packages, members and deploy tokens, inside a
    /// transaction; returns the digests their files referenced and how many projects went.
    private static func deleteProjects(_ db: any SQLDatabase, where condition: SQLQueryString) async throws -> (digests: [String], projects: Int) {
        let ids = try await db.raw("SELECT id FROM projects WHERE \(condition)").all().map { try $0.decode(column: "id", as: Int64.self) }
        var digests: [String] = []
        for id in ids {
            digests += try await db.raw("SELECT sha256, metadata_sha256 FROM package_files WHERE project_id = \(bind: id)").all()
                .flatMap { row in
                    [try row.decode(column: "sha256", as: String.self), try row.decode(column: "metadata_sha256", as: String?.self)].compactMap { $0 }
                }
            try await db.raw("DELETE FROM package_files WHERE project_id = \(bind: id)").run()
            try await db.raw("DELETE FROM package_details WHERE package_id IN (SELECT id FROM packages WHERE project_id = \(bind: id))").run()
            try await db.raw("DELETE FROM packages WHERE project_id = \(bind: id)").run()
            try await db.raw("DELETE FROM reserved_names WHERE project_id = \(bind: id)").run()
            try await db.raw("DELETE FROM members WHERE source_kind = 'project' AND source_id = \(bind: id)").run()
            try await db.raw("DELETE FROM deploy_tokens WHERE source_kind = 'project' AND source_id = \(bind: id)").run()
            try await db.raw("DELETE FROM projects WHERE id = \(bind: id)").run()
        }
        return (digests, ids.count)
    }

    // MARK: Members

    /// Direct members of one source.
    func members(of source: MembershipSource) async throws -> [Member] {
        try await self.database.read { db in
            try await db.raw(
                """
                SELECT u.*, m.access_level FROM members m JOIN users u ON u.id = m.user_id
                WHERE m.source_kind = \(bind: source.kind) AND m.source_id = \(bind: source.id) ORDER BY u.id
                """
            ).all().map { row in
                Member(user: try row.user(), accessLevel: AccessLevel(rawValue: try row.decode(column: "access_level", as: Int.self)) ?? .guest)
            }
        }
    }

    /// Changes a member's role; returns the role they had, nil when they are no member (nothing
    /// changes, nothing is recorded). `audit` is given the old role.
    func updateMember(
        source: MembershipSource,
        userID: UserID,
        accessLevel: AccessLevel,
        audit: @escaping Audit<AccessLevel>
    ) async throws
        -> AccessLevel?
    {
        try await self.database.transaction { db in
            guard let old = try await Self.accessLevel(of: userID, in: source, db) else { return nil }
            try await db.raw(
                """
                UPDATE members SET access_level = \(bind: accessLevel.rawValue)
                WHERE source_kind = \(bind: source.kind) AND source_id = \(bind: source.id) AND user_id = \(bind: userID)
                """
            ).run()
            try await Self.record(audit(old), db)
            return old
        }
    }

    /// Removes a member; returns the role they had, nil when they were no member. `audit` is given that role.
    func deleteMember(source: MembershipSource, userID: UserID, audit: @escaping Audit<AccessLevel>) async throws -> AccessLevel? {
        try await self.database.transaction { db in
            guard let old = try await Self.accessLevel(of: userID, in: source, db) else { return nil }
            try await db.raw(
                """
                DELETE FROM members WHERE source_kind = \(bind: source.kind) AND source_id = \(bind: source.id) AND user_id = \(bind: userID)
                """
            ).run()
            try await Self.record(audit(old), db)
            return old
        }
    }

    private static func accessLevel(of userID: UserID, in source: MembershipSource, _ db: any SQLDatabase) async throws -> AccessLevel? {
        try await db.raw(
            """
            SELECT access_level FROM members WHERE source_kind = \(bind: source.kind) AND source_id = \(bind: source.id) AND user_id = \(bind: userID)
            """
        ).first().map { AccessLevel(rawValue: try $0.decode(column: "access_level", as: Int.self)) ?? .guest }
    }

    // MARK: Deploy tokens

    func deployTokens(of source: MembershipSource) async throws -> [DeployToken] {
        try await self.database.read { db in
            try await db.raw(
                """
                SELECT * FROM deploy_tokens WHERE source_kind = \(bind: source.kind) AND source_id = \(bind: source.id) ORDER BY id
                """
            ).all().map { try $0.deployToken() }
        }
    }

    /// Deletes (and so revokes) a deploy token of the source; false if it has no such token.
    /// `audit` is given the token deleted.
    func deleteDeployToken(id: Int64, source: MembershipSource, audit: @escaping Audit<DeployToken>) async throws -> Bool {
        try await self.database.transaction { db in
            guard
                let token = try await db.raw(
                    """
                    DELETE FROM deploy_tokens WHERE id = \(bind: id) AND source_kind = \(bind: source.kind) AND source_id = \(bind: source.id)
                    RETURNING *
                    """
                ).first()?.deployToken()
            else { return false }
            try await Self.record(audit(token), db)
            return true
        }
    }
}
