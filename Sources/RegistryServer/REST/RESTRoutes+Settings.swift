import Hummingbird
import Registry

/// GitLab's application settings (administrators), and the names a project reserves against
/// forwarding (maintainers).
extension RESTRouter {
    mutating func addSettings(_ settings: SettingsService) {
        self.add(.get, "application/settings") { call in
            RESTResponse.json(Representations.settings(try await settings.current(for: call.principal)))
        }
        self.add(.put, "application/settings") { call in
            let change = SettingsChange(
                forwarding: try call.strictBool("pypi_package_requests_forwarding"),
                forwardingMode: call.string("pypi_package_requests_forwarding_mode"),
                upstreamURL: call.has("pypi_upstream_url") ? call.string("pypi_upstream_url") ?? "" : nil,
                upstreamUsername: call.has("pypi_upstream_username") ? call.string("pypi_upstream_username") ?? "" : nil,
                upstreamPassword: call.has("pypi_upstream_password") ? call.string("pypi_upstream_password") ?? "" : nil,
                upstreamTTLSeconds: call.string("pypi_upstream_ttl_seconds")
            )
            do {
                return RESTResponse.json(Representations.settings(try await settings.update(change, by: call.principal, author: call.author)))
            } catch let error as SettingsError {
                throw RESTError.invalidField(error.field, error.problem)
            }
        }
    }

    mutating func addReservedNames(_ service: ManagementService) {
        self.add(.get, "projects/:id/packages/pypi/reserved_names") { call in
            let names = try await service.reservedNames(call.principal, project: call.path("id"))
            return RESTResponse.page(names.map(Representations.reservedName), call: call)
        }
        self.add(.delete, "projects/:id/packages/pypi/reserved_names/:name") { call in
            try await service.clearReservedName(call.principal, project: call.path("id"), name: call.path("name"), author: call.author)
            return RESTResponse.noContent()
        }
    }
}
