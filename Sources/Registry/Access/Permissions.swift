/// What a caller may do with one project's packages.
public struct ProjectPermissions: Sendable, Equatable {
    /// The caller may know the project exists (otherwise: 404, or 401 for anonymous callers).
    public var canSee: Bool
    public var canReadPackages: Bool
    public var canUploadPackages: Bool
    /// Yank and unyank (and, later, delete): maintainers and owners with a read-write token.
    public var canManagePackages: Bool

    public init(canSee: Bool, canReadPackages: Bool, canUploadPackages: Bool, canManagePackages: Bool = false) {
        self.canSee = canSee
        self.canReadPackages = canReadPackages
        self.canUploadPackages = canUploadPackages
        self.canManagePackages = canManagePackages
    }

    public static let none = ProjectPermissions(canSee: false, canReadPackages: false, canUploadPackages: false)
}

/// GitLab's rules for the package registry, as one pure function of the facts, so that they can be
/// tested exhaustively. The facts are gathered by `AccessControl`.
public enum PackagePolicy {
    /// The facts about a caller and a project that the rules need.
    public struct Facts: Sendable {
        public var principal: Principal
        public var visibility: Visibility
        /// The caller's highest role on the project or its ancestors (users only).
        public var accessLevel: AccessLevel?
        /// Whether a deploy token belongs to the project or to a group above it.
        public var deployTokenCoversProject: Bool

        public init(principal: Principal, visibility: Visibility, accessLevel: AccessLevel?, deployTokenCoversProject: Bool) {
            self.principal = principal
            self.visibility = visibility
            self.accessLevel = accessLevel
            self.deployTokenCoversProject = deployTokenCoversProject
        }
    }

    /// Reading a private project's packages takes reporter; uploading takes developer.
    public static let readLevel = AccessLevel.reporter
    public static let uploadLevel = AccessLevel.developer
    public static let manageLevel = AccessLevel.maintainer

    public static func permissions(_ facts: Facts) -> ProjectPermissions {
        switch facts.principal {
        case .anonymous:
            let open = facts.visibility == .public
            return ProjectPermissions(canSee: open, canReadPackages: open, canUploadPackages: false)

        case .user(let user, let scopes):
            let level: AccessLevel? = user.isAdmin ? .owner : facts.accessLevel
            let canSee = level != nil || facts.visibility != .private
            let roleReads = facts.visibility != .private || (level.map { $0 >= readLevel } ?? false)
            let roleUploads = level.map { $0 >= uploadLevel } ?? false
            // Any personal scope we issue reads; only `api` writes.
            let scopeReads = !scopes.isDisjoint(with: TokenScope.personal)
            let scopeWrites = scopes.contains(.api)
            return ProjectPermissions(
                canSee: canSee,
                canReadPackages: canSee && roleReads && scopeReads,
                canUploadPackages: canSee && roleUploads && scopeWrites,
                canManagePackages: canSee && (level.map { $0 >= manageLevel } ?? false) && scopeWrites
            )

        case .deployToken(let token):
            guard facts.deployTokenCoversProject else {
                let open = facts.visibility == .public
                return ProjectPermissions(canSee: open, canReadPackages: open, canUploadPackages: false)
            }
            return ProjectPermissions(
                canSee: true,
                canReadPackages: token.scopes.contains(.readPackageRegistry) || facts.visibility == .public,
                canUploadPackages: token.scopes.contains(.writePackageRegistry)
            )
        }
    }
}

extension PackagePolicy {
    /// The facts about a caller and a group that decide whether its pages exist for them.
    public struct GroupFacts: Sendable {
        public var principal: Principal
        public var visibility: Visibility
        /// The caller's highest role on the group or its ancestors (users only).
        public var accessLevel: AccessLevel?
        /// Whether a deploy token belongs to the group or to a group above it.
        public var deployTokenCoversGroup: Bool
        /// Whether the caller may read packages of at least one project below the group.
        public var readsSomeProject: Bool

        public init(principal: Principal, visibility: Visibility, accessLevel: AccessLevel?, deployTokenCoversGroup: Bool, readsSomeProject: Bool) {
            self.principal = principal
            self.visibility = visibility
            self.accessLevel = accessLevel
            self.deployTokenCoversGroup = deployTokenCoversGroup
            self.readsSomeProject = readsSomeProject
        }
    }

    public static func canSeeGroup(_ facts: GroupFacts) -> Bool {
        if facts.visibility == .public || facts.readsSomeProject { return true }
        switch facts.principal {
        case .anonymous: return false
        case .user(let user, _): return user.isAdmin || facts.accessLevel != nil || facts.visibility == .internal
        case .deployToken: return facts.deployTokenCoversGroup
        }
    }
}
