/// Whose audit events a listing shows.
public enum AuditScope: Sendable, Equatable {
    /// Every event (administrators).
    case instance
    /// A group's own events (not its subgroups' nor its projects', as in GitLab), by id or full path.
    case group(String)
    /// A project's events, by id or full path.
    case project(String)
}

/// Reading the audit events, with GitLab's rules on who may: administrators everything; owners and
/// maintainers of a group or project (administrators too) its events; a group or project the
/// caller cannot see is not found, as everywhere else.
public struct AuditLog: Sendable {
    let store: MetadataStore
    let control: AccessControl
    let access: AccessDecisions

    /// One page of the scope's events within the period, newest first.
    public func events(_ principal: Principal, in scope: AuditScope, period: AuditPeriod, page: PageRequest) async throws -> Page<AuditEvent> {
        guard case .user(let user, let scopes) = principal else {
            throw principal.isAnonymous ? RegistryError.unauthenticated : RegistryError.forbidden("403 Forbidden")
        }
        guard scopes.contains(.api) || scopes.contains(.readAPI) else { throw RegistryError.forbidden("403 Forbidden - insufficient_scope") }
        let entity: (type: AuditEntityType, id: Int64)?
        switch scope {
        case .instance:
            guard user.isAdmin else { throw RegistryError.forbidden("403 Forbidden") }
            entity = nil
        case .group(let reference):
            let group = try await self.access.visibleGroup(reference, for: principal)
            try Self.require(try await self.control.accessLevel(of: user, on: group))
            entity = (.group, group.id)
        case .project(let reference):
            let project = try await self.access.visibleProject(reference, for: principal)
            try Self.require(try await self.control.accessLevel(of: user, on: project))
            entity = (.project, project.id)
        }
        let query = AuditQuery(entity: entity, createdAfter: period.after, createdBefore: period.before)
        return try await self.store.auditEvents(query, page: page)
    }

    /// The newest `limit` events of the scope, for operators (the CLI): no permission check.
    public func latest(in scope: AuditScope, limit: Int) async throws -> [AuditEvent] {
        let entity: (type: AuditEntityType, id: Int64)?
        switch scope {
        case .instance:
            entity = nil
        case .group(let reference):
            guard let group = try await self.store.group(reference: reference) else { throw RegistryError.notFound("Group '\(reference)' not found") }
            entity = (.group, group.id)
        case .project(let reference):
            guard let project = try await self.store.project(reference: reference) else {
                throw RegistryError.notFound("Project '\(reference)' not found")
            }
            entity = (.project, project.id)
        }
        return try await self.store.latestAuditEvents(AuditQuery(entity: entity), limit: limit)
    }

    private static func require(_ level: AccessLevel?) throws {
        guard let level, level >= .maintainer else { throw RegistryError.forbidden("403 Forbidden") }
    }
}
