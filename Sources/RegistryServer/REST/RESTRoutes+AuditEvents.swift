import Hummingbird
import Registry

/// GitLab's audit events API: the instance's events (administrators), and a group's or a
/// project's (its maintainers and owners), newest first, paged like every other list.
extension RESTRouter {
    mutating func addAuditEvents(_ log: AuditLog) {
        self.add(.get, "audit_events") { call in try await Self.auditEvents(log, .instance, call) }
        self.add(.get, "groups/:id/audit_events") { call in try await Self.auditEvents(log, .group(call.path("id")), call) }
        self.add(.get, "projects/:id/audit_events") { call in try await Self.auditEvents(log, .project(call.path("id")), call) }
    }

    private static func auditEvents(_ log: AuditLog, _ scope: AuditScope, _ call: RESTCall) async throws -> Response {
        let period: AuditPeriod
        do {
            period = try AuditPeriod(after: call.string("created_after"), before: call.string("created_before"))
        } catch {
            throw RESTError.invalidField(error.field, "is invalid: use an ISO 8601 date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)")
        }
        let page = call.page
        let events = try await log.events(call.principal, in: scope, period: period, page: page)
        return RESTResponse.page(events.items.map(Representations.auditEvent), total: events.total, request: page, call: call)
    }
}
