import SQLKit

/// Every query the registry makes, over one `MetadataDatabase`. No rules live here: callers decide
/// who may do what; this type only reads and writes rows, and turns the database's unique indexes into
/// `RegistryError.conflict`.
public struct MetadataStore: Sendable {
    let database: MetadataDatabase

    public init(database: MetadataDatabase) {
        self.database = database
    }

    // MARK: Users

    func insertUser(username: String, isAdmin: Bool, passwordHash: String? = nil, audit: @escaping Audit<User>) async throws -> User {
        do {
            return try await self.database.transaction { db in
                let now = Timestamp.now().microseconds
                let row = try await db.raw(
                    """
                    INSERT INTO users (username, is_admin, password_hash, created_at)
                    VALUES (\(bind: username), \(bind: isAdmin ? 1 : 0), \(bind: passwordHash), \(bind: now)) RETURNING id
                    """
                ).first()!
                let user = User(id: try row.decode(column: "id", as: Int64.self), username: username, isAdmin: isAdmin)
                // Every user has a personal namespace for their own projects; it shares the path space with groups.
                try await db.raw(
                    """
                    INSERT INTO namespaces (kind, parent_id, path, full_path, name, visibility, owner_id, created_at)
                    VALUES ('user', NULL, \(bind: username), \(bind: username), \(bind: username), 'private', \(bind: user.id), \(bind: now))
                    """
                ).run()
                try await Self.record(audit(user), db)
                return user
            }
        } catch  where DatabaseDialect.isUniqueViolation(error) {
            throw RegistryError.conflict("Username or namespace '\(username)' has already been taken")
        }
    }

    func user(named username: String) async throws -> User? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM users WHERE lower(username) = lower(\(bind: username))").first()?.user()
        }
    }

    func user(id: UserID) async throws -> User? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM users WHERE id = \(bind: id)").first()?.user()
        }
    }

    // MARK: Namespaces and projects

    /// A new group with `owner`, if given, as its first member (one transaction: a group is never without its owner).
    func insertGroup(
        parent: Namespace?,
        path: String,
        name: String,
        visibility: Visibility,
        description: String = "",
        owner: UserID? = nil,
        audit: @escaping Audit<Namespace>
    ) async throws -> Namespace {
        let fullPath = parent.map { "\($0.fullPath)/\(path)" } ?? path
        do {
            return try await self.database.transaction(locking: [.paths]) { db in
                // A subgroup and a project may not share a path: both would answer the same URL.
                if try await db.raw("SELECT id FROM projects WHERE lower(path_with_namespace) = lower(\(bind: fullPath))").first() != nil {
                    throw RegistryError.conflict("Path '\(fullPath)' has already been taken")
                }
                let now = Timestamp.now().microseconds
                let group = try await db.raw(
                    """
                    INSERT INTO namespaces (kind, parent_id, path, full_path, name, visibility, owner_id, created_at, description)
                    VALUES ('group', \(bind: parent?.id), \(bind: path), \(bind: fullPath), \(bind: name),
                            \(bind: visibility.rawValue), NULL, \(bind: now), \(bind: description))
                    RETURNING *
                    """
                ).first()!.namespace()
                if let owner {
                    try await db.raw(
                        """
                        INSERT INTO members (source_kind, source_id, user_id, access_level, created_at)
                        VALUES ('namespace', \(bind: group.id), \(bind: owner), \(bind: AccessLevel.owner.rawValue), \(bind: now))
                        """
                    ).run()
                }
                try await Self.record(audit(group), db)
                return group
            }
        } catch  where DatabaseDialect.isUniqueViolation(error) {
            throw RegistryError.conflict("Path '\(fullPath)' has already been taken")
        }
    }

    func namespace(id: NamespaceID) async throws -> Namespace? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM namespaces WHERE id = \(bind: id)").first()?.namespace()
        }
    }

    func namespace(fullPath: String) async throws -> Namespace? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM namespaces WHERE lower(full_path) = lower(\(bind: fullPath))").first()?.namespace()
        }
    }

    /// The namespace and its ancestors, nearest first.
    func namespaceChain(from id: NamespaceID) async throws -> [Namespace] {
        var chain: [Namespace] = []
        var next: NamespaceID? = id
        while let current = next, chain.count < 32, let namespace = try await self.namespace(id: current) {
            chain.append(namespace)
            next = namespace.parentID
        }
        return chain
    }

    func insertProject(
        namespace: Namespace,
        path: String,
        name: String,
        visibility: Visibility,
        description: String = "",
        audit: @escaping Audit<Project>
    ) async throws -> Project {
        let fullPath = "\(namespace.fullPath)/\(path)"
        do {
            return try await self.database.transaction(locking: [.paths]) { db in
                if try await db.raw("SELECT id FROM namespaces WHERE lower(full_path) = lower(\(bind: fullPath))").first() != nil {
                    throw RegistryError.conflict("Path '\(fullPath)' has already been taken")
                }
                let project = try await db.raw(
                    """
                    INSERT INTO projects (namespace_id, path, path_with_namespace, name, visibility, created_at, description)
                    VALUES (\(bind: namespace.id), \(bind: path), \(bind: fullPath), \(bind: name),
                            \(bind: visibility.rawValue), \(bind: Timestamp.now().microseconds), \(bind: description))
                    RETURNING *
                    """
                ).first()!.project()
                try await Self.record(audit(project), db)
                return project
            }
        } catch  where DatabaseDialect.isUniqueViolation(error) {
            throw RegistryError.conflict("Path '\(fullPath)' has already been taken")
        }
    }

    func project(id: ProjectID) async throws -> Project? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM projects WHERE id = \(bind: id)").first()?.project()
        }
    }

    func project(fullPath: String) async throws -> Project? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM projects WHERE lower(path_with_namespace) = lower(\(bind: fullPath))").first()?.project()
        }
    }

    /// A project named by a numeric id or a full path, as GitLab's `:id`.
    func project(reference: String) async throws -> Project? {
        if let id = Int64(reference), id > 0 { return try await self.project(id: id) }
        return try await self.project(fullPath: reference)
    }

    /// A group (not a personal namespace) named by a numeric id or a full path.
    func group(reference: String) async throws -> Namespace? {
        let namespace: Namespace?
        if let id = Int64(reference), id > 0 {
            namespace = try await self.namespace(id: id)
        } else {
            namespace = try await self.namespace(fullPath: reference)
        }
        return namespace?.kind == .group ? namespace : nil
    }

    /// Every project in the namespace and, recursively, in its subgroups.
    func projects(inTreeOf namespace: Namespace) async throws -> [Project] {
        let prefix = namespace.fullPath.lowercased() + "/"
        return try await self.database.read { db in
            try await db.raw(
                """
                SELECT p.* FROM projects p JOIN namespaces n ON n.id = p.namespace_id
                WHERE n.id = \(bind: namespace.id)
                   OR substr(lower(n.full_path), 1, CAST(\(bind: prefix.utf8.count) AS INTEGER)) = \(bind: prefix)
                ORDER BY p.id
                """
            ).all().map { try $0.project() }
        }
    }

    // MARK: Members

    func insertMember(source: MembershipSource, userID: UserID, accessLevel: AccessLevel, audit: [AuditEntry]) async throws {
        do {
            try await self.database.transaction { db in
                try await db.raw(
                    """
                    INSERT INTO members (source_kind, source_id, user_id, access_level, created_at)
                    VALUES (\(bind: source.kind), \(bind: source.id), \(bind: userID), \(bind: accessLevel.rawValue),
                            \(bind: Timestamp.now().microseconds))
                    """
                ).run()
                try await Self.record(audit, db)
            }
        } catch  where DatabaseDialect.isUniqueViolation(error) {
            throw RegistryError.conflict("Member already exists")
        }
    }

    /// The highest role the user holds directly on the project or on any of the given namespaces.
    func highestAccessLevel(of userID: UserID, project: ProjectID?, namespaces: [NamespaceID]) async throws -> AccessLevel? {
        try await self.database.read { db in
            var query = SQLQueryString("SELECT max(access_level) AS level FROM members WHERE user_id = \(bind: userID) AND (")
            query.appendInterpolation(unsafeRaw: "1 = 0")
            if let project {
                query.appendLiteral(" OR (source_kind = 'project' AND source_id = ")
                query.appendInterpolation(bind: project)
                query.appendLiteral(")")
            }
            for namespace in namespaces {
                query.appendLiteral(" OR (source_kind = 'namespace' AND source_id = ")
                query.appendInterpolation(bind: namespace)
                query.appendLiteral(")")
            }
            query.appendLiteral(")")
            let level = try await db.raw(query).first()?.decode(column: "level", as: Int?.self)
            return level.flatMap(AccessLevel.init(rawValue:))
        }
    }

    // MARK: Tokens

    func insertPersonalAccessToken(
        userID: UserID,
        name: String,
        scopes: Set<TokenScope>,
        expiresAt: Day?,
        digest: String,
        audit: @escaping Audit<PersonalAccessToken>
    ) async throws -> PersonalAccessToken {
        try await self.database.transaction { db in
            let token = try await db.raw(
                """
                INSERT INTO personal_access_tokens (user_id, name, token_digest, scopes, expires_at, revoked, created_at)
                VALUES (\(bind: userID), \(bind: name), \(bind: digest), \(bind: scopes.stored), \(bind: expiresAt?.iso8601),
                        0, \(bind: Timestamp.now().microseconds))
                RETURNING *
                """
            ).first()!.personalAccessToken()
            try await Self.record(audit(token), db)
            return token
        }
    }

    /// The token with this digest and its owner.
    func personalAccessToken(digest: String) async throws -> (PersonalAccessToken, User)? {
        try await self.database.read { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT t.*, u.username, u.is_admin FROM personal_access_tokens t JOIN users u ON u.id = t.user_id
                    WHERE t.token_digest = \(bind: digest)
                    """
                ).first()
            else { return nil }
            let token = try row.personalAccessToken()
            let user = User(
                id: token.userID,
                username: try row.decode(column: "username", as: String.self),
                isAdmin: try row.decode(column: "is_admin", as: Int.self) != 0
            )
            return (token, user)
        }
    }

    func insertDeployToken(
        source: MembershipSource,
        name: String,
        username: String?,
        scopes: Set<TokenScope>,
        expiresAt: Day?,
        digest: String,
        audit: @escaping Audit<DeployToken>
    ) async throws -> DeployToken {
        try await self.database.transaction { db in
            let id = try await db.raw(
                """
                INSERT INTO deploy_tokens (source_kind, source_id, name, username, token_digest, scopes, expires_at, revoked, created_at)
                VALUES (\(bind: source.kind), \(bind: source.id), \(bind: name), '', \(bind: digest), \(bind: scopes.stored),
                        \(bind: expiresAt?.iso8601), 0, \(bind: Timestamp.now().microseconds))
                RETURNING id
                """
            ).first()!.decode(column: "id", as: Int64.self)
            let token = try await db.raw(
                """
                UPDATE deploy_tokens SET username = \(bind: username ?? "wheelhouse+deploy-token-\(id)") WHERE id = \(bind: id) RETURNING *
                """
            ).first()!.deployToken()
            try await Self.record(audit(token), db)
            return token
        }
    }

    func deployToken(digest: String) async throws -> DeployToken? {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM deploy_tokens WHERE token_digest = \(bind: digest)").first()?.deployToken()
        }
    }
}
