import Registry

/// GitLab's JSON shapes (field names as GitLab's REST API uses them), for the REST API and the CLI.
public enum Representations {
    public static func user(_ user: User, showAdmin: Bool = true) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .int(user.id)), ("username", .string(user.username)), ("name", .string(user.username)),
            ("state", .string("active")), ("locked", .bool(false)),
        ]
        if showAdmin { fields.append(("is_admin", .bool(user.isAdmin))) }
        return .object(fields)
    }

    public static func group(_ group: Namespace, fullName: String? = nil, webBase: String = "") -> JSONValue {
        .object([
            ("id", .int(group.id)), ("name", .string(group.name)), ("path", .string(group.path)),
            ("full_path", .string(group.fullPath)), ("full_name", .string(fullName ?? group.fullPath.split(separator: "/").joined(separator: " / "))),
            ("parent_id", group.parentID.map(JSONValue.int) ?? .null), ("visibility", .string(group.visibility.rawValue)),
            ("description", .string(group.description)), ("web_url", .string("\(webBase)/groups/\(group.fullPath)")),
            ("pypi_package_requests_forwarding", group.forwarding.value.map(JSONValue.bool) ?? .null),
        ])
    }

    public static func namespace(_ namespace: Namespace) -> JSONValue {
        .object([
            ("id", .int(namespace.id)), ("name", .string(namespace.name)), ("path", .string(namespace.path)),
            ("full_path", .string(namespace.fullPath)), ("kind", .string(namespace.kind.rawValue)),
            ("parent_id", namespace.parentID.map(JSONValue.int) ?? .null),
        ])
    }

    public static func project(_ project: Project, namespace: Namespace?, namespaceFullName: String? = nil, webBase: String = "") -> JSONValue {
        let namespaceName = namespaceFullName ?? project.pathWithNamespace.split(separator: "/").dropLast().joined(separator: " / ")
        return .object([
            ("id", .int(project.id)), ("name", .string(project.name)), ("path", .string(project.path)),
            ("path_with_namespace", .string(project.pathWithNamespace)),
            ("name_with_namespace", .string("\(namespaceName) / \(project.name)")),
            ("visibility", .string(project.visibility.rawValue)), ("description", .string(project.description)),
            ("namespace", namespace.map(Self.namespace) ?? .null),
            ("web_url", .string("\(webBase)/\(project.pathWithNamespace)")),
        ])
    }

    public static func member(_ member: Member) -> JSONValue {
        .object([
            ("id", .int(member.user.id)), ("username", .string(member.user.username)), ("name", .string(member.user.username)),
            ("state", .string("active")), ("access_level", .int(Int64(member.accessLevel.rawValue))),
        ])
    }

    public static func personalAccessToken(_ token: PersonalAccessToken, secret: String? = nil, today: Day = Timestamp.now().day) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .int(token.id)), ("name", .string(token.name)), ("user_id", .int(token.userID)),
            ("scopes", .array(token.scopes.map(\.rawValue).sorted().map(JSONValue.string))),
            ("expires_at", .optional(token.expiresAt?.iso8601)), ("revoked", .bool(token.revoked)),
            ("active", .bool(!token.revoked && (token.expiresAt.map { today < $0 } ?? true))),
        ]
        if let secret { fields.append(("token", .string(secret))) }
        return .object(fields)
    }

    public static func deployToken(_ token: DeployToken, secret: String? = nil, today: Day = Timestamp.now().day) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .int(token.id)), ("name", .string(token.name)), ("username", .string(token.username)),
            ("scopes", .array(token.scopes.map(\.rawValue).sorted().map(JSONValue.string))),
            ("expires_at", .optional(token.expiresAt?.iso8601)), ("revoked", .bool(token.revoked)),
            ("expired", .bool(token.expiresAt.map { today >= $0 } ?? false)),
        ]
        if let secret { fields.append(("token", .string(secret))) }
        return .object(fields)
    }

    public static func package(_ package: Package) -> JSONValue {
        .object([
            ("id", .int(package.id)), ("name", .string(package.name)), ("version", .string(package.version)),
            ("package_type", .string("pypi")), ("status", .string("default")), ("project_id", .int(package.projectID)),
            ("created_at", .string(package.createdAt.iso8601)),
        ])
    }

    public static func packageFile(_ file: PackageFile) -> JSONValue {
        .object([
            ("id", .int(file.id)), ("package_id", .int(file.packageID)), ("file_name", .string(file.fileName)),
            ("size", .int(file.size)), ("file_sha256", .string(file.digests.sha256)), ("file_md5", .string(file.digests.md5)),
            ("created_at", .string(file.uploadedAt.iso8601)),
        ])
    }
}

extension Representations {
    /// GitLab's application settings object, with Wheelhouse's upstream fields; the password is
    /// never shown, only whether one is set.
    public static func settings(_ settings: ApplicationSettings) -> JSONValue {
        .object([
            ("pypi_package_requests_forwarding", .bool(settings.forwarding)),
            ("pypi_package_requests_forwarding_mode", .string(settings.forwardingMode.rawValue)),
            ("pypi_upstream_url", .optional(settings.upstreamURL)),
            ("pypi_upstream_username", .optional(settings.upstreamUsername)),
            ("pypi_upstream_password_set", .bool(settings.upstreamPassword != nil)),
            ("pypi_upstream_ttl_seconds", .int(Int64(settings.upstreamTTLSeconds))),
        ])
    }

    public static func reservedName(_ name: ReservedName) -> JSONValue {
        .object([("name", .string(name.normalizedName)), ("created_at", .string(name.createdAt.iso8601))])
    }
}
