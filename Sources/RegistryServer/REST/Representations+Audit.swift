import Registry

extension Representations {
    /// An audit event as GitLab's audit events API shows it: the author, target, address and path
    /// inside `details`, with the event's own facts next to them.
    public static func auditEvent(_ event: AuditEvent) -> JSONValue {
        var details: [(String, JSONValue)] = [
            ("author_name", .string(event.author.name)), ("author_class", .string(event.author.kind.rawValue)),
            ("target_id", event.target.map { .int($0.id) } ?? .null), ("target_type", .optional(event.target?.type)),
            ("target_details", .optional(event.target?.details)), ("ip_address", .optional(event.author.ipAddress)),
            ("entity_path", .string(event.entity.path)), ("custom_message", .string(event.message)),
        ]
        let reserved = Set(details.map(\.0))
        for (key, value) in event.details.sorted(by: { $0.key < $1.key }) where !reserved.contains(key) {
            details.append((key, .string(value)))
        }
        return .object([
            ("id", .int(event.id)), ("author_id", .int(event.author.id)), ("entity_id", .int(event.entity.id)),
            ("entity_type", .string(event.entity.type.rawValue)), ("event_name", .string(event.name.rawValue)),
            ("details", .object(details)), ("created_at", .string(event.createdAt.iso8601)),
        ])
    }
}
