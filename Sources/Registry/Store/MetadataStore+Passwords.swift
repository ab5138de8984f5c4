import SQLKit

/// What may change on an existing user: each field left nil stays as it is.
struct UserChanges: Sendable, Equatable {
    /// A new stored password (`PasswordHasher`'s form), never the password itself.
    var passwordHash: String?
    var isAdmin: Bool?
}

/// Users' stored passwords, and the other changes an administrator makes to a user. The store keeps
/// only what `PasswordHasher` made; it never sees a password.
extension MetadataStore {
    /// Applies `changes` to the user `id` in one statement; nil when there is no such user.
    /// `audit` is given the user before and after.
    func updateUser(id: UserID, _ changes: UserChanges, audit: @escaping Audit<(before: User, after: User)>) async throws -> User? {
        try await self.database.transaction { db in
            guard let before = try await db.raw("SELECT * FROM users WHERE id = \(bind: id)").first()?.user() else { return nil }
            var assignments: [SQLQueryString] = []
            if let hash = changes.passwordHash {
                assignments.append("password_hash = \(bind: hash)")
                // A new password signs the user out everywhere, in the same transaction.
                try await db.raw("DELETE FROM web_sessions WHERE user_id = \(bind: id)").run()
            }
            if let isAdmin = changes.isAdmin { assignments.append("is_admin = \(bind: isAdmin ? 1 : 0)") }
            guard !assignments.isEmpty else { return before }
            guard
                let after = try await db.raw("UPDATE users SET \(assignments.joined(separator: ", ")) WHERE id = \(bind: id) RETURNING *")
                    .first()?.user()
            else { return nil }
            try await Self.record(audit((before, after)), db)
            return after
        }
    }

    /// The user whose name is `login` (case-insensitively, as sign-in and the CLI look names up) and
    /// their stored password, nil when they have none.
    func userAndPasswordHash(login: String) async throws -> (user: User, passwordHash: String?)? {
        try await self.database.read { db in
            guard
                let row = try await db.raw("SELECT * FROM users WHERE lower(username) = lower(\(bind: login))").first()
            else { return nil }
            return (try row.user(), try row.decode(column: "password_hash", as: String?.self))
        }
    }
}
