import SQLKit

/// Decoding of stored rows into domain values, one place per entity.
extension SQLRow {
    func user() throws -> User {
        User(
            id: try decode(column: "id", as: Int64.self),
            username: try decode(column: "username", as: String.self),
            isAdmin: try decode(column: "is_admin", as: Int.self) != 0
        )
    }

    func namespace() throws -> Namespace {
        Namespace(
            id: try decode(column: "id", as: Int64.self),
            kind: Namespace.Kind(rawValue: try decode(column: "kind", as: String.self)) ?? .group,
            parentID: try decode(column: "parent_id", as: Int64?.self),
            path: try decode(column: "path", as: String.self),
            fullPath: try decode(column: "full_path", as: String.self),
            name: try decode(column: "name", as: String.self),
            visibility: Visibility(rawValue: try decode(column: "visibility", as: String.self)) ?? .private,
            ownerID: try decode(column: "owner_id", as: Int64?.self),
            description: try decode(column: "description", as: String?.self) ?? "",
            forwarding: ForwardingOverride(stored: try decode(column: "pypi_forwarding", as: Int?.self))
        )
    }

    func project() throws -> Project {
        Project(
            id: try decode(column: "id", as: Int64.self),
            namespaceID: try decode(column: "namespace_id", as: Int64.self),
            path: try decode(column: "path", as: String.self),
            pathWithNamespace: try decode(column: "path_with_namespace", as: String.self),
            name: try decode(column: "name", as: String.self),
            visibility: Visibility(rawValue: try decode(column: "visibility", as: String.self)) ?? .private,
            description: try decode(column: "description", as: String?.self) ?? ""
        )
    }

    func personalAccessToken() throws -> PersonalAccessToken {
        PersonalAccessToken(
            id: try decode(column: "id", as: Int64.self),
            userID: try decode(column: "user_id", as: Int64.self),
            name: try decode(column: "name", as: String.self),
            scopes: Set(stored: try decode(column: "scopes", as: String.self)),
            expiresAt: try decode(column: "expires_at", as: String?.self).flatMap(Day.init(iso8601:)),
            revoked: try decode(column: "revoked", as: Int.self) != 0
        )
    }

    func deployToken() throws -> DeployToken {
        let kind = try decode(column: "source_kind", as: String.self)
        let sourceID = try decode(column: "source_id", as: Int64.self)
        return DeployToken(
            id: try decode(column: "id", as: Int64.self),
            source: kind == "project" ? .project(sourceID) : .namespace(sourceID),
            name: try decode(column: "name", as: String.self),
            username: try decode(column: "username", as: String.self),
            scopes: Set(stored: try decode(column: "scopes", as: String.self)),
            expiresAt: try decode(column: "expires_at", as: String?.self).flatMap(Day.init(iso8601:)),
            revoked: try decode(column: "revoked", as: Int.self) != 0
        )
    }

    func package() throws -> Package {
        Package(
            id: try decode(column: "id", as: Int64.self),
            projectID: try decode(column: "project_id", as: Int64.self),
            name: try decode(column: "name", as: String.self),
            normalizedName: try decode(column: "normalized_name", as: String.self),
            version: try decode(column: "version", as: String.self),
            createdAt: Timestamp(microseconds: try decode(column: "created_at", as: Int64.self))
        )
    }

    func packageFile() throws -> PackageFile {
        PackageFile(
            id: try decode(column: "id", as: Int64.self),
            packageID: try decode(column: "package_id", as: Int64.self),
            projectID: try decode(column: "project_id", as: Int64.self),
            fileName: try decode(column: "file_name", as: String.self),
            size: try decode(column: "size", as: Int64.self),
            digests: FileDigests(
                sha256: try decode(column: "sha256", as: String.self),
                md5: try decode(column: "md5", as: String.self),
                blake2b256: try decode(column: "blake2b_256", as: String.self)
            ),
            requiresPython: try decode(column: "requires_python", as: String?.self),
            uploadedAt: Timestamp(microseconds: try decode(column: "uploaded_at", as: Int64.self)),
            coreMetadata: try decode(column: "metadata_sha256", as: String?.self).map { sha256 in
                BlobReference(sha256: sha256, size: try decode(column: "metadata_size", as: Int64?.self) ?? 0)
            },
            yank: try decode(column: "yanked", as: Int.self) != 0
                ? Yank(reason: try decode(column: "yanked_reason", as: String?.self) ?? "") : nil
        )
    }
}
