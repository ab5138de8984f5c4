import Registry

/// GitLab's field names for what the admin commands create.
extension User {
    var json: JSONValue {
        .object([("id", .int(self.id)), ("username", .string(self.username)), ("name", .string(self.username)), ("is_admin", .bool(self.isAdmin))])
    }
}

extension Namespace {
    var json: JSONValue {
        .object([
            ("id", .int(self.id)), ("name", .string(self.name)), ("path", .string(self.path)),
            ("full_path", .string(self.fullPath)), ("parent_id", self.parentID.map(JSONValue.int) ?? .null),
            ("visibility", .string(self.visibility.rawValue)),
        ])
    }
}

extension Project {
    func json(namespace: Namespace?) -> JSONValue {
        var namespaceJSON: JSONValue = .null
        if let namespace {
            namespaceJSON = .object([
                ("id", .int(namespace.id)), ("path", .string(namespace.path)),
                ("full_path", .string(namespace.fullPath)), ("kind", .string(namespace.kind.rawValue)),
            ])
        }
        return .object([
            ("id", .int(self.id)), ("name", .string(self.name)), ("path", .string(self.path)),
            ("path_with_namespace", .string(self.pathWithNamespace)), ("visibility", .string(self.visibility.rawValue)),
            ("namespace", namespaceJSON),
        ])
    }
}

extension Member {
    var json: JSONValue {
        .object([
            ("id", .int(self.user.id)), ("username", .string(self.user.username)),
            ("access_level", .int(Int64(self.accessLevel.rawValue))),
        ])
    }
}

extension IssuedToken<PersonalAccessToken> {
    var json: JSONValue {
        .object([
            ("id", .int(self.token.id)), ("name", .string(self.token.name)), ("user_id", .int(self.token.userID)),
            ("scopes", .array(self.token.scopes.map(\.rawValue).sorted().map(JSONValue.string))),
            ("expires_at", .optional(self.token.expiresAt?.iso8601)), ("revoked", .bool(self.token.revoked)),
            ("token", .string(self.secret)),
        ])
    }
}

extension IssuedToken<DeployToken> {
    var json: JSONValue {
        .object([
            ("id", .int(self.token.id)), ("name", .string(self.token.name)), ("username", .string(self.token.username)),
            ("scopes", .array(self.token.scopes.map(\.rawValue).sorted().map(JSONValue.string))),
            ("expires_at", .optional(self.token.expiresAt?.iso8601)), ("revoked", .bool(self.token.revoked)),
            ("token", .string(self.secret)),
        ])
    }
}
