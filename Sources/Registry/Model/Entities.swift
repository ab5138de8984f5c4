import PythonPackaging

public typealias UserID = Int64
public typealias NamespaceID = Int64
public typealias ProjectID = Int64

public struct User: Sendable, Equatable {
    public var id: UserID
    public var username: String
    public var isAdmin: Bool
}

/// A group or a user's personal namespace; projects live in one. GitLab keeps both in one table too,
/// which makes a user name and a top-level group path collide, as they must (they share URLs).
public struct Namespace: Sendable, Equatable {
    public enum Kind: String, Sendable { case group, user }

    public var id: NamespaceID
    public var kind: Kind
    public var parentID: NamespaceID?
    public var path: String
    public var fullPath: String
    public var name: String
    public var visibility: Visibility
    /// For a personal namespace, its owner.
    public var ownerID: UserID?
    public var description: String = ""
    /// A group's own forwarding choice (issue 12); personal namespaces always inherit.
    public var forwarding: ForwardingOverride = .inherit
}

public struct Project: Sendable, Equatable {
    public var id: ProjectID
    public var namespaceID: NamespaceID
    public var path: String
    public var pathWithNamespace: String
    public var name: String
    public var visibility: Visibility
    public var description: String = ""
}

/// What a membership is attached to.
public enum MembershipSource: Sendable, Equatable {
    case namespace(NamespaceID)
    case project(ProjectID)

    var kind: String {
        switch self {
        case .namespace: "namespace"
        case .project: "project"
        }
    }

    var id: Int64 {
        switch self {
        case .namespace(let id), .project(let id): id
        }
    }
}

public struct Member: Sendable, Equatable {
    public var user: User
    public var accessLevel: AccessLevel
}

public struct PersonalAccessToken: Sendable, Equatable {
    public var id: Int64
    public var userID: UserID
    public var name: String
    public var scopes: Set<TokenScope>
    public var expiresAt: Day?
    public var revoked: Bool
}

public struct DeployToken: Sendable, Equatable {
    public var id: Int64
    public var source: MembershipSource
    public var name: String
    public var username: String
    public var scopes: Set<TokenScope>
    public var expiresAt: Day?
    public var revoked: Bool
}

/// A token and its secret, as returned once at creation.
public struct IssuedToken<Token: Sendable>: Sendable {
    public var token: Token
    public var secret: String
}

/// A release: one normalised name and one version in one project.
public struct Package: Sendable, Equatable {
    public var id: Int64
    public var projectID: ProjectID
    /// The name as first uploaded, for display.
    public var name: String
    public var normalizedName: String
    public var version: String
    public var createdAt: Timestamp
}

public struct PackageFile: Sendable, Equatable {
    public var id: Int64
    public var packageID: Int64
    public var projectID: ProjectID
    public var fileName: String
    public var size: Int64
    public var digests: FileDigests
    public var requiresPython: String?
    public var uploadedAt: Timestamp
    /// The file's core metadata (PEP 658), stored as a blob of its own, when it has one.
    public var coreMetadata: BlobReference?
    /// PEP 592: a yanked file stays downloadable but resolvers skip it unless pinned exactly.
    public var yank: Yank?
}

/// Content in the blob store: its digest (the address) and size.
public struct BlobReference: Sendable, Equatable {
    public var sha256: String
    public var size: Int64
}

public struct Yank: Sendable, Equatable {
    /// Why, as shown to installers; may be empty.
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// The digests of a file's bytes, all lowercase hex.
public struct FileDigests: Sendable, Equatable, Hashable {
    public var sha256: String
    public var md5: String
    public var blake2b256: String

    public init(sha256: String, md5: String, blake2b256: String) {
        self.sha256 = sha256
        self.md5 = md5
        self.blake2b256 = blake2b256
    }
}
