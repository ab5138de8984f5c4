import SQLKit

/// Which audit events a listing shows: one entity's or the whole instance's, within a period.
public struct AuditQuery: Sendable, Equatable {
    /// nil: every entity's events (administrators).
    public var entity: (type: AuditEntityType, id: Int64)?
    /// Inclusive bounds.
    public var createdAfter: Timestamp?
    public var createdBefore: Timestamp?

    public init(entity: (type: AuditEntityType, id: Int64)? = nil, createdAfter: Timestamp? = nil, createdBefore: Timestamp? = nil) {
        self.entity = entity
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.entity?.type == rhs.entity?.type && lhs.entity?.id == rhs.entity?.id && lhs.createdAfter == rhs.createdAfter
            && lhs.createdBefore == rhs.createdBefore
    }
}

/// Audit events: written inside the transaction of the change they describe (`record`), so that a
/// change that rolls back leaves no event and one that commits always has its event; listed newest first.
extension MetadataStore {
    /// Given what a write produced (a new row, the row as it was), the events it records. Each
    /// store write that changes something takes one and calls it inside its transaction.
    typealias Audit<Result> = @Sendable (Result) -> [AuditEntry]

    /// Writes `entries` in the caller's transaction `db`.
    static func record(_ entries: [AuditEntry], _ db: any SQLDatabase) async throws {
        guard !entries.isEmpty else { return }
        let now = Timestamp.now().microseconds
        for entry in entries {
            try await db.raw(
                """
                INSERT INTO audit_events (created_at, author_id, author_name, entity_type, entity_id, entity_path, event_name,
                                          target_type, target_id, target_details, ip_address, details)
                VALUES (\(bind: now), \(bind: entry.author.id), \(bind: entry.author.name), \(bind: entry.entity.type.rawValue),
                        \(bind: entry.entity.id), \(bind: entry.entity.path), \(bind: entry.name.rawValue), \(bind: entry.target?.type),
                        \(bind: entry.target?.id), \(bind: entry.target?.details), \(bind: entry.author.ipAddress), \(bind: entry.storedDetails))
                """
            ).run()
        }
    }

    /// One page of the events `query` selects, newest first.
    public func auditEvents(_ query: AuditQuery, page: PageRequest) async throws -> Page<AuditEvent> {
        try await self.database.read { db in
            let filter = Self.filter(query)
            let total = try await db.raw("SELECT count(*) AS n FROM audit_events \(filter)").first()!.decode(column: "n", as: Int.self)
            let items = try await db.raw(
                "SELECT * FROM audit_events \(filter) ORDER BY id DESC LIMIT \(bind: page.perPage) OFFSET \(bind: page.offset)"
            ).all().map { try $0.auditEvent() }
            return Page(items: items, total: total)
        }
    }

    /// The newest `limit` events of `query` (the CLI, which is not bound to pages of 100 and needs no total).
    public func latestAuditEvents(_ query: AuditQuery, limit: Int) async throws -> [AuditEvent] {
        try await self.database.read { db in
            try await db.raw("SELECT * FROM audit_events \(Self.filter(query)) ORDER BY id DESC LIMIT \(bind: limit)").all()
                .map { try $0.auditEvent() }
        }
    }

    /// The WHERE clause of `query`: its entity and its period's inclusive bounds.
    private static func filter(_ query: AuditQuery) -> SQLQueryString {
        var filter = SQLQueryString("WHERE 1 = 1")
        if let entity = query.entity {
            filter.appendLiteral(" AND entity_type = ")
            filter.appendInterpolation(bind: entity.type.rawValue)
            filter.appendLiteral(" AND entity_id = ")
            filter.appendInterpolation(bind: entity.id)
        }
        if let after = query.createdAfter {
            filter.appendLiteral(" AND created_at >= ")
            filter.appendInterpolation(bind: after.microseconds)
        }
        if let before = query.createdBefore {
            filter.appendLiteral(" AND created_at <= ")
            filter.appendInterpolation(bind: before.microseconds)
        }
        return filter
    }
}

extension SQLRow {
    func auditEvent() throws -> AuditEvent {
        let (details, authorClass, message) = AuditEntry.parse(storedDetails: try decode(column: "details", as: String.self))
        let author = AuditAuthor(
            kind: authorClass.flatMap(AuditAuthor.Kind.init(rawValue:)) ?? .user,
            id: try decode(column: "author_id", as: Int64.self),
            name: try decode(column: "author_name", as: String.self),
            ipAddress: try decode(column: "ip_address", as: String?.self)
        )
        var target: AuditTarget?
        if let type = try decode(column: "target_type", as: String?.self) {
            target = AuditTarget(
                type: type,
                id: try decode(column: "target_id", as: Int64?.self) ?? 0,
                details: try decode(column: "target_details", as: String?.self) ?? ""
            )
        }
        let entity = AuditEntity(
            type: AuditEntityType(rawValue: try decode(column: "entity_type", as: String.self)) ?? .instance,
            id: try decode(column: "entity_id", as: Int64.self),
            path: try decode(column: "entity_path", as: String.self)
        )
        return AuditEvent(
            id: try decode(column: "id", as: Int64.self),
            createdAt: Timestamp(microseconds: try decode(column: "created_at", as: Int64.self)),
            entry: AuditEntry(
                AuditEventName(rawValue: try decode(column: "event_name", as: String.self)),
                by: author,
                on: entity,
                target: target,
                details: details,
                message: message
            )
        )
    }
}
