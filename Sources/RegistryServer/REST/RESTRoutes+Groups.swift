import Hummingbird
import Registry

/// Groups and projects: GitLab's `groups` and `projects` endpoints.
extension RESTRouter {
    mutating func addGroupsAndProjects(_ service: ManagementService) {
        self.add(.get, "groups") { call in
            let page = call.page
            let groups = try await service.groups(call.principal, page: page)
            return RESTResponse.page(try await Self.groups(groups.items, service, call), total: groups.total, request: page, call: call)
        }
        self.add(.get, "groups/:id") { call in
            RESTResponse.json(try await Self.group(try await service.group(call.principal, call.path("id")), service, call))
        }
        self.add(.post, "groups") { call in
            let group = try await service.createGroup(
                call.principal,
                path: try call.required("path"),
                name: try call.required("name"),
                parentID: try call.int("parent_id"),
                visibility: try call.visibility(default: .private)!,
                description: call.string("description"),
                author: call.author
            )
            return RESTResponse.json(try await Self.group(group, service, call), status: .created)
        }
        self.add(.put, "groups/:id") { call in
            let group = try await service.updateGroup(
                call.principal,
                call.path("id"),
                name: call.string("name"),
                visibility: try call.visibility(),
                description: call.string("description"),
                forwarding: try call.forwardingOverride("pypi_package_requests_forwarding"),
                author: call.author
            )
            return RESTResponse.json(try await Self.group(group, service, call))
        }
        self.add(.delete, "groups/:id") { call in
            try await service.deleteGroup(call.principal, call.path("id"), author: call.author)
            return RESTResponse.accepted()
        }
        self.add(.get, "groups/:id/subgroups") { call in
            let groups = try await service.subgroups(call.principal, of: call.path("id"))
            return RESTResponse.page(try await Self.groups(groups, service, call), call: call)
        }
        self.add(.get, "groups/:id/projects") { call in
            try await Self.projectList(try await service.projects(call.principal, in: call.path("id")), service: service, call: call)
        }
        self.add(.get, "projects") { call in
            try await Self.projectList(try await service.projects(call.principal, in: nil), service: service, call: call)
        }
        self.add(.get, "projects/:id") { call in
            let project = try await service.project(call.principal, call.path("id"))
            return RESTResponse.json(try await Self.project(project, service, call))
        }
        self.add(.post, "projects") { call in
            let project = try await service.createProject(
                call.principal,
                path: call.string("path"),
                name: call.string("name"),
                namespaceID: try call.int("namespace_id"),
                visibility: try call.visibility(default: .private)!,
                description: call.string("description"),
                author: call.author
            )
            return RESTResponse.json(try await Self.project(project, service, call), status: .created)
        }
        self.add(.put, "projects/:id") { call in
            let project = try await service.updateProject(
                call.principal,
                call.path("id"),
                name: call.string("name"),
                visibility: try call.visibility(),
                description: call.string("description"),
                author: call.author
            )
            return RESTResponse.json(try await Self.project(project, service, call))
        }
        self.add(.delete, "projects/:id") { call in
            try await service.deleteProject(call.principal, call.path("id"), author: call.author)
            return RESTResponse.accepted()
        }
    }

    fileprivate static func projectList(_ projects: [Project], service: ManagementService, call: RESTCall) async throws -> Response {
        let page = call.page
        var items: [JSONValue] = []
        for project in projects.dropFirst((page.page - 1) * page.perPage).prefix(page.perPage) {
            items.append(try await Self.project(project, service, call))
        }
        return RESTResponse.page(items, total: projects.count, request: page, call: call)
    }

    fileprivate static func group(_ group: Namespace, _ service: ManagementService, _ call: RESTCall) async throws -> JSONValue {
        Representations.group(group, fullName: try await service.fullName(of: group), webBase: call.externalBase)
    }

    fileprivate static func groups(_ groups: [Namespace], _ service: ManagementService, _ call: RESTCall) async throws -> [JSONValue] {
        var rendered: [JSONValue] = []
        for group in groups { rendered.append(try await Self.group(group, service, call)) }
        return rendered
    }

    fileprivate static func project(_ project: Project, _ service: ManagementService, _ call: RESTCall) async throws -> JSONValue {
        let namespace = try await service.namespace(of: project)
        var fullName: String?
        if let namespace { fullName = try await service.fullName(of: namespace) }
        return Representations.project(project, namespace: namespace, namespaceFullName: fullName, webBase: call.externalBase)
    }
}
