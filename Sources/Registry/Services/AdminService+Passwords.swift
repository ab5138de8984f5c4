/// Operators' password changes (the CLI's `user password`), and the one place a password becomes
/// its stored form: checked against `PasswordRules`, then hashed on the thread pool.
extension AdminService {
    /// Gives the user named `username` (case-insensitively) a new password, replacing any old one.
    public func setPassword(username: String, password: String) async throws -> User {
        guard let user = try await self.store.user(named: username) else {
            throw RegistryError.notFound("User '\(username)' not found")
        }
        let hash = try await self.storedPassword(password)
        let author = self.author
        let changes = UserChanges(passwordHash: hash)
        let updated = try await self.store.updateUser(id: user.id, changes) {
            AuditEntry.userChanged(before: $0.before, after: $0.after, passwordChanged: true, by: author)
        }
        guard let updated else {
            throw RegistryError.notFound("User '\(username)' not found")
        }
        return updated
    }

    /// `password`'s stored form, once it passes the rules.
    func storedPassword(_ password: String) async throws -> String {
        try PasswordRules.validate(password)
        return try await self.threadPool.runIfActive { try PasswordHasher.hash(password) }
    }
}
