/// The one place entries are made, one factory per kind of change. Each is given only what may be
/// shown (ids, names, paths, scopes, levels), never a token, a password or a hash, so no event can
/// hold a secret.
extension AuditEntry {
    // MARK: Entities

    static func entity(of user: User) -> AuditEntity { AuditEntity(type: .user, id: user.id, path: user.username) }
    static func entity(of group: Namespace) -> AuditEntity { AuditEntity(type: .group, id: group.id, path: group.fullPath) }
    static func entity(of project: Project) -> AuditEntity { AuditEntity(type: .project, id: project.id, path: project.pathWithNamespace) }

    // MARK: Packages

    static func packageUploaded(_ file: PackageFile, name: String, version: String, in project: Project, by author: AuditAuthor) -> Self {
        Self(
            .packageUploaded,
            by: author,
            on: Self.entity(of: project),
            target: AuditTarget(type: "PackageFile", id: file.id, details: file.fileName),
            details: ["package_name": name, "package_version": version, "sha256": file.digests.sha256, "size": String(file.size)],
            message: "Uploaded \(file.fileName)"
        )
    }

    static func packageFileDeleted(_ file: PackageFile, of package: Package, in project: Project, by author: AuditAuthor) -> Self {
        Self(
            .packageFileDeleted,
            by: author,
            on: Self.entity(of: project),
            target: AuditTarget(type: "PackageFile", id: file.id, details: file.fileName),
            details: ["package_name": package.name, "package_version": package.version, "sha256": file.digests.sha256],
            message: "Deleted the file \(file.fileName)"
        )
    }

    static func packageDeleted(_ package: Package, in project: Project, by author: AuditAuthor) -> Self {
        Self(
            .packageDeleted,
            by: author,
            on: Self.entity(of: project),
            target: AuditTarget(type: "Package", id: package.id, details: "\(package.name) \(package.version)"),
            details: ["package_name": package.name, "package_version": package.version],
            message: "Deleted the package \(package.name) \(package.version)"
        )
    }

    /// A yank (`reason` non-nil) or unyank of the named files of one release.
    static func yankChanged(
        _ files: [String],
        name: String,
        version: String,
        reason: String?,
        in project: Project,
        by author: AuditAuthor
    ) -> Self {
        var details = ["package_name": name, "package_version": version, "files": files.joined(separator: ",")]
        if let reason { details["reason"] = reason }
        return Self(
            reason == nil ? .releaseUnyanked : .releaseYanked,
            by: author,
            on: Self.entity(of: project),
            details: details,
            message: "\(reason == nil ? "Unyanked" : "Yanked") \(name) \(version): \(files.joined(separator: ", "))"
        )
    }

    static func packagesBulkLoaded(packages: Int, files: Int, in project: Project, by author: AuditAuthor) -> Self {
        Self(
            .packagesBulkLoaded,
            by: author,
            on: Self.entity(of: project),
            details: ["packages": String(packages), "files": String(files)],
            message: "Loaded \(files) files of \(packages) releases"
        )
    }

    static func reservedNameCleared(_ normalizedName: String, in project: Project, by author: AuditAuthor) -> Self {
        Self(
            .reservedNameCleared,
            by: author,
            on: Self.entity(of: project),
            details: ["package_name": normalizedName],
            message: "The name \(normalizedName) may forward to the upstream again"
        )
    }

    // MARK: Tokens

    static func personalAccessToken(
        _ name: AuditEventName,
        _ token: PersonalAccessToken,
        of owner: User,
        by author: AuditAuthor,
        extra: [String: String] = [:]
    ) -> Self {
        var details = extra
        details["scopes"] = token.scopes.map(\.rawValue).sorted().joined(separator: ",")
        if let expiresAt = token.expiresAt { details["expires_at"] = expiresAt.iso8601 }
        let verb = name == .personalAccessTokenCreated ? "Created" : name == .personalAccessTokenRotated ? "Rotated" : "Revoked"
        return Self(
            name,
            by: author,
            on: Self.entity(of: owner),
            target: AuditTarget(type: "PersonalAccessToken", id: token.id, details: token.name),
            details: details,
            message: "\(verb) the personal access token \(token.name) of \(owner.username)"
        )
    }

    static func deployToken(_ name: AuditEventName, _ token: DeployToken, on entity: AuditEntity, by author: AuditAuthor) -> Self {
        Self(
            name,
            by: author,
            on: entity,
            target: AuditTarget(type: "DeployToken", id: token.id, details: token.name),
            details: ["scopes": token.scopes.map(\.rawValue).sorted().joined(separator: ","), "username": token.username],
            message: "\(name == .deployTokenCreated ? "Created" : "Revoked") the deploy token \(token.name)"
        )
    }

    // MARK: Members

    static func member(
        _ name: AuditEventName,
        _ user: User,
        on entity: AuditEntity,
        from old: AccessLevel?,
        to new: AccessLevel?,
        by author: AuditAuthor
    ) -> Self {
        var details: [String: String] = [:]
        if let old { details["from"] = old.name }
        if let new { details["to"] = new.name }
        let what: String
        switch name {
        case .memberAdded: what = "Added \(user.username) as \(new?.name ?? "?")"
        case .memberUpdated: what = "Changed \(user.username)'s role from \(old?.name ?? "?") to \(new?.name ?? "?")"
        default: what = "Removed \(user.username)"
        }
        return Self(
            name,
            by: author,
            on: entity,
            target: AuditTarget(type: "User", id: user.id, details: user.username),
            details: details,
            message: what
        )
    }

    // MARK: Groups, projects, users

    static func groupCreated(_ group: Namespace, by author: AuditAuthor) -> Self {
        Self(
            .groupCreated,
            by: author,
            on: Self.entity(of: group),
            details: ["visibility": group.visibility.rawValue],
            message: "Created the group \(group.fullPath)"
        )
    }

    static func projectCreated(_ project: Project, by author: AuditAuthor) -> Self {
        Self(
            .projectCreated,
            by: author,
            on: Self.entity(of: project),
            details: ["visibility": project.visibility.rawValue],
            message: "Created the project \(project.pathWithNamespace)"
        )
    }

    /// A change to a group or project: `changes` maps each field changed to its old and new value.
    static func updated(_ name: AuditEventName, on entity: AuditEntity, changes: [String: (String, String)], by author: AuditAuthor) -> Self {
        var details: [String: String] = [:]
        for (field, (old, new)) in changes {
            details["\(field)_from"] = old
            details["\(field)_to"] = new
        }
        let fields = changes.keys.sorted().joined(separator: ", ")
        return Self(name, by: author, on: entity, details: details, message: "Changed \(fields.isEmpty ? "nothing" : fields) of \(entity.path)")
    }

    static func deleted(_ name: AuditEventName, on entity: AuditEntity, projects: Int, by author: AuditAuthor) -> Self {
        Self(name, by: author, on: entity, details: ["projects_deleted": String(projects)], message: "Deleted \(entity.path)")
    }

    static func userCreated(_ user: User, withPassword: Bool, by author: AuditAuthor) -> Self {
        Self(
            .userCreated,
            by: author,
            on: Self.entity(of: user),
            details: ["admin": String(user.isAdmin), "password_set": String(withPassword)],
            message: "Created the user \(user.username)"
        )
    }

    static func userAdminChanged(_ user: User, from old: Bool, by author: AuditAuthor) -> Self {
        Self(
            .userUpdated,
            by: author,
            on: Self.entity(of: user),
            details: ["admin_from": String(old), "admin_to": String(user.isAdmin)],
            message: "\(user.isAdmin ? "Made" : "Unmade") \(user.username) an administrator"
        )
    }

    static func userPasswordChanged(_ user: User, by author: AuditAuthor) -> Self {
        Self(.userPasswordChanged, by: author, on: Self.entity(of: user), message: "Changed the password of \(user.username)")
    }

    // MARK: Settings

    /// `changes` maps each setting changed to its old and new value, secrets already hidden.
    static func settingsUpdated(_ changes: [String: (String, String)], by author: AuditAuthor) -> Self {
        var entry = Self.updated(.settingsUpdated, on: .instance, changes: changes, by: author)
        entry.message = "Changed the application settings: \(changes.keys.sorted().joined(separator: ", "))"
        return entry
    }
}

/// Entries for changes to existing rows, from the row before and after: nothing when nothing a
/// person would care about changed.
extension AuditEntry {
    static func groupUpdated(before: Namespace, after: Namespace, by author: AuditAuthor) -> [Self] {
        var changes: [String: (String, String)] = [:]
        if before.name != after.name { changes["name"] = (before.name, after.name) }
        if before.visibility != after.visibility { changes["visibility"] = (before.visibility.rawValue, after.visibility.rawValue) }
        if before.description != after.description { changes["description"] = (before.description, after.description) }
        if before.forwarding != after.forwarding {
            changes["pypi_package_requests_forwarding"] = (before.forwarding.rawValue, after.forwarding.rawValue)
        }
        guard !changes.isEmpty else { return [] }
        return [Self.updated(.groupUpdated, on: Self.entity(of: after), changes: changes, by: author)]
    }

    static func projectUpdated(before: Project, after: Project, by author: AuditAuthor) -> [Self] {
        var changes: [String: (String, String)] = [:]
        if before.name != after.name { changes["name"] = (before.name, after.name) }
        if before.visibility != after.visibility { changes["visibility"] = (before.visibility.rawValue, after.visibility.rawValue) }
        if before.description != after.description { changes["description"] = (before.description, after.description) }
        guard !changes.isEmpty else { return [] }
        return [Self.updated(.projectUpdated, on: Self.entity(of: after), changes: changes, by: author)]
    }

    /// A new password (the caller knows one was set: the stored hash is not compared, nor recorded)
    /// and a changed administrator flag are events of their own.
    static func userChanged(before: User, after: User, passwordChanged: Bool, by author: AuditAuthor) -> [Self] {
        var entries: [Self] = []
        if passwordChanged { entries.append(.userPasswordChanged(after, by: author)) }
        if before.isAdmin != after.isAdmin { entries.append(.userAdminChanged(after, from: before.isAdmin, by: author)) }
        return entries
    }
}
