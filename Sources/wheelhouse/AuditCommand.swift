import ArgumentParser
import Logging
import Registry
import RegistryServer

/// `wheelhouse audit`: who changed what, newest first, the same events as `/api/v4/audit_events`,
/// for the operator at the machine (no permission check, as for every command here).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the audit events (who changed what), newest first."
    )
    @Option(help: "Only this project's events (full path or id).") var project: String?
    @Option(help: "Only this group's own events (full path or id).") var group: String?
    @Flag(help: "One JSON object per line, as the REST API shows each event.") var json = false
    @Option(help: "How many events at most (default 50).") var limit = 50
    @OptionGroup var data: DataOptions

    func validate() throws {
        guard self.project == nil || self.group == nil else { throw ValidationError("give at most one of --project and --group") }
        guard self.limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let scope: AuditScope = self.project.map(AuditScope.project) ?? self.group.map(AuditScope.group) ?? .instance
        try await MaintenanceRegistry.with(self.data) { registry, logger in
            let services = RegistryServices(store: registry.store, blobs: registry.blobs, logger: logger)
            let events = try await services.audit.latest(in: scope, limit: self.limit)
            if self.json {
                for event in events { print(Representations.auditEvent(event).rendered) }
            } else {
                print(AuditTable.render(events))
            }
        }
    }
}

/// Events as a table for a terminal: one line each, columns padded to their widest cell.
enum AuditTable {
    static let headings = ["ID", "TIME", "AUTHOR", "ADDRESS", "ENTITY", "EVENT", "TARGET", "MESSAGE"]

    static func render(_ events: [AuditEvent]) -> String {
        guard !events.isEmpty else { return "No audit events" }
        let rows =
            [Self.headings]
            + events.map { event in
                [
                    String(event.id), String(event.createdAt.iso8601.prefix(19)) + "Z", "\(event.author.name) [\(event.author.kind.rawValue)]",
                    event.author.ipAddress ?? "-", "\(event.entity.type.rawValue) \(event.entity.path)", event.name.rawValue,
                    event.target.map { "\($0.type) \($0.id) \($0.details)" } ?? "-", Self.oneLine(event.message),
                ]
            }
        var widths = Array(repeating: 0, count: Self.headings.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// A message as one line: control characters (a newline in a yank reason) shown as spaces.
    static func oneLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }
}
