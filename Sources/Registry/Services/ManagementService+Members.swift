/// A group or project named in a REST path, by id or full path.
public enum ResourceReference: Sendable, Equatable {
    case group(String)
    case project(String)
}

/// A member as listed: the user, the role, and whether it comes from a group above.
public struct ListedMember: Sendable, Equatable {
    public var member: Member
    public var inherited: Bool
}

/// Members and deploy tokens of groups and projects through the REST API.
extension ManagementService {
    /// The membership source a reference names, if the caller may see it; `level` demands a role.
    func source(_ principal: Principal, _ reference: ResourceReference, atLeast level: AccessLevel? = nil) async throws -> MembershipSource {
        switch reference {
        case .group(let value):
            if let level { return .namespace(try await self.group(principal, value, atLeast: level).id) }
            return .namespace(try await self.group(principal, value).id)
        case .project(let value):
            if let level { return .project(try await self.project(principal, value, atLeast: level).id) }
            return .project(try await self.project(principal, value).id)
        }
    }

    /// Direct members, or with `inherited` also those of every group above (highest role wins).
    public func members(_ principal: Principal, of reference: ResourceReference, inherited: Bool) async throws -> [ListedMember] {
        let source = try await self.source(principal, reference)
        var listed = try await self.store.members(of: source).map { ListedMember(member: $0, inherited: false) }
        guard inherited else { return listed }
        let start: NamespaceID?
        switch source {
        case .namespace(let id): start = try await self.store.namespace(id: id)?.parentID
        case .project(let id): start = try await self.store.project(id: id)?.namespaceID
        }
        guard let start else { return listed }
        for namespace in try await self.store.namespaceChain(from: start) where namespace.kind == .group {
            for member in try await self.store.members(of: .namespace(namespace.id)) {
                if let index = listed.firstIndex(where: { $0.member.user.id == member.user.id }) {
                    if member.accessLevel > listed[index].member.accessLevel { listed[index] = ListedMember(member: member, inherited: true) }
                } else {
                    listed.append(ListedMember(member: member, inherited: true))
                }
            }
        }
        return listed.sorted { $0.member.user.id < $1.member.user.id }
    }

    public func member(_ principal: Principal, of reference: ResourceReference, userID: Int64, inherited: Bool) async throws -> ListedMember {
        guard let member = try await self.members(principal, of: reference, inherited: inherited).first(where: { $0.member.user.id == userID }) else {
            throw RegistryError.notFound("404 Member Not Found")
        }
        return member
    }

    /// Maintainers add members up to their own role; only owners make owners.
    public func addMember(
        _ principal: Principal,
        to reference: ResourceReference,
        userID: Int64,
        accessLevel: AccessLevel,
        author: AuditAuthor
    ) async throws -> Member {
        try await self.write {
            let source = try await self.source(principal, reference, atLeast: .maintainer)
            try await self.checkGrant(principal, accessLevel, on: reference)
            guard let user = try await self.store.user(id: userID) else { throw RegistryError.notFound("404 User Not Found") }
            try await self.admin.acting(as: author).addMember(user, to: source, accessLevel: accessLevel)
            return Member(user: user, accessLevel: accessLevel)
        }
    }

    public func updateMember(
        _ principal: Principal,
        of reference: ResourceReference,
        userID: Int64,
        accessLevel: AccessLevel,
        author: AuditAuthor
    ) async throws -> Member {
        try await self.write {
            let source = try await self.source(principal, reference, atLeast: .maintainer)
            try await self.checkGrant(principal, accessLevel, on: reference)
            guard let user = try await self.store.user(id: userID) else { throw RegistryError.notFound("404 Member Not Found") }
            let entity = try await self.admin.auditEntity(of: source)
            let old = try await self.store.updateMember(source: source, userID: userID, accessLevel: accessLevel) { old in
                [.member(.memberUpdated, user, on: entity, from: old, to: accessLevel, by: author)]
            }
            guard old != nil else { throw RegistryError.notFound("404 Member Not Found") }
            return Member(user: user, accessLevel: accessLevel)
        }
    }

    public func removeMember(_ principal: Principal, from reference: ResourceReference, userID: Int64, author: AuditAuthor) async throws {
        try await self.write {
            let source = try await self.source(principal, reference, atLeast: .maintainer)
            guard let user = try await self.store.user(id: userID) else { throw RegistryError.notFound("404 Member Not Found") }
            let entity = try await self.admin.auditEntity(of: source)
            let old = try await self.store.deleteMember(source: source, userID: userID) { old in
                [.member(.memberRemoved, user, on: entity, from: old, to: nil, by: author)]
            }
            guard old != nil else { throw RegistryError.notFound("404 Member Not Found") }
        }
    }

    private func checkGrant(_ principal: Principal, _ level: AccessLevel, on reference: ResourceReference) async throws {
        guard level == .owner else { return }
        _ = try await self.source(principal, reference, atLeast: .owner)
    }

    // MARK: Deploy tokens

    public func deployTokens(_ principal: Principal, of reference: ResourceReference) async throws -> [DeployToken] {
        try await self.store.deployTokens(of: try await self.source(principal, reference, atLeast: .maintainer))
    }

    public func createDeployToken(
        _ principal: Principal,
        for reference: ResourceReference,
        name: String,
        username: String?,
        scopes: Set<TokenScope>,
        expiresAt: Day?,
        author: AuditAuthor
    ) async throws -> IssuedToken<DeployToken> {
        try await self.write {
            let source = try await self.source(principal, reference, atLeast: .maintainer)
            let target: MembershipTarget
            switch source {
            case .namespace(let id): target = .group(String(id))
            case .project(let id): target = .project(String(id))
            }
            return try await self.admin.acting(as: author).createDeployToken(
                for: target,
                name: name,
                username: username,
                scopes: scopes,
                expiresAt: expiresAt
            )
        }
    }

    public func deleteDeployToken(_ principal: Principal, of reference: ResourceReference, id: Int64, author: AuditAuthor) async throws {
        try await self.write {
            let source = try await self.source(principal, reference, atLeast: .maintainer)
            let entity = try await self.admin.auditEntity(of: source)
            let deleted = try await self.store.deleteDeployToken(id: id, source: source) { token in
                [.deployToken(.deployTokenRevoked, token, on: entity, by: author)]
            }
            guard deleted else { throw RegistryError.notFound("404 Deploy Token Not Found") }
        }
    }
}
