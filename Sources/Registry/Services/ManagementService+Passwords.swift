/// An administrator's changes to an existing user over the REST API (`PUT /users/:id`): for now a
/// new password and the administrator flag.
extension ManagementService {
    /// Applies the changes given (nil leaves a field as it is) and returns the user as they are now.
    /// Administrators only; one cannot take away one's own administrator access (nobody might be
    /// left to give it back).
    public func updateUser(_ principal: Principal, id: Int64, password: String?, isAdmin: Bool? = nil, author: AuditAuthor) async throws -> User {
        try await self.write {
            let caller = try self.administrator(principal)
            let user = try await self.user(principal, id: id)
            if isAdmin == false, user.id == caller.id {
                throw RegistryError.invalid("You cannot remove your own administrator access")
            }
            var changes = UserChanges(isAdmin: isAdmin)
            if let password { changes.passwordHash = try await self.admin.storedPassword(password) }
            let passwordChanged = password != nil
            let updated = try await self.store.updateUser(id: user.id, changes) {
                AuditEntry.userChanged(before: $0.before, after: $0.after, passwordChanged: passwordChanged, by: author)
            }
            guard let updated else {
                throw RegistryError.notFound("404 User Not Found")
            }
            return updated
        }
    }
}
