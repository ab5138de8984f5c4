import Hummingbird
import Registry

/// Every REST route and what it does. Handlers only translate between HTTP and `ManagementService`,
/// where the rules live.
extension RESTRouter {
    static func make(_ service: ManagementService) -> RESTRouter {
        var router = RESTRouter()
        router.addMeta(service)
        router.addUsers(service)
        router.addTokens(service)
        router.addGroupsAndProjects(service)
        router.addMembers(service)
        router.addDeployTokens(service)
        router.addPackages(service)
        return router
    }

    private mutating func addMeta(_ service: ManagementService) {
        let version = JSONValue.object([("version", .string(WheelhouseVersion.current)), ("revision", .string("wheelhouse"))])
        self.add(.get, "version") { call in
            _ = try service.caller(call.principal)
            return RESTResponse.json(version)
        }
        self.add(.get, "metadata") { call in
            _ = try service.caller(call.principal)
            return RESTResponse.json(.object([
                ("version", .string(WheelhouseVersion.current)), ("revision", .string("wheelhouse")),
                ("kas", .object([("enabled", .bool(false)), ("externalUrl", .null), ("version", .null)])),
                ("enterprise", .bool(false)), ("product", .string("Wheelhouse")),
            ]))
        }
    }

    private mutating func addUsers(_ service: ManagementService) {
        self.add(.get, "user") { call in
            let (user, _) = try service.caller(call.principal)
            return RESTResponse.json(Representations.user(user))
        }
        self.add(.get, "users") { call in
            let page = call.page
            let users = try await service.users(call.principal, username: call.string("username"), page: page)
            let isAdmin = (try? service.caller(call.principal).0.isAdmin) ?? false
            return RESTResponse.page(users.items.map { Representations.user($0, showAdmin: isAdmin) }, total: users.total, request: page, call: call)
        }
        self.add(.get, "users/:id") { call in
            let user = try await service.user(call.principal, id: try call.pathID("id"))
            return RESTResponse.json(Representations.user(user, showAdmin: (try? service.caller(call.principal).0.isAdmin) ?? false))
        }
        self.add(.post, "users") { call in
            let user = try await service.createUser(call.principal, username: try call.required("username"), isAdmin: call.bool("admin"))
            return RESTResponse.json(Representations.user(user), status: .created)
        }
        self.add(.delete, "users/:id") { call in
            try await service.deleteUser(call.principal, id: try call.pathID("id"))
            return RESTResponse.noContent()
        }
    }

    private mutating func addTokens(_ service: ManagementService) {
        self.add(.post, "users/:id/personal_access_tokens") { call in
            let issued = try await service.createPersonalAccessToken(
                call.principal, userID: try call.pathID("id"), name: try call.required("name"),
                scopes: try Self.scopes(call), expiresAt: try call.day("expires_at")
            )
            return RESTResponse.json(Representations.personalAccessToken(issued.token, secret: issued.secret), status: .created)
        }
        self.add(.get, "personal_access_tokens") { call in
            let page = call.page
            let tokens = try await service.personalAccessTokens(call.principal, userID: try call.int("user_id"), page: page)
            return RESTResponse.page(tokens.items.map { Representations.personalAccessToken($0) }, total: tokens.total, request: page, call: call)
        }
        for selector in [":id", "self"] {
            self.add(.get, "personal_access_tokens/\(selector)") { call in
                let token = try await service.personalAccessToken(call.principal, id: try Self.tokenID(call), presented: call.credential)
                return RESTResponse.json(Representations.personalAccessToken(token))
            }
            self.add(.delete, "personal_access_tokens/\(selector)") { call in
                try await service.revokePersonalAccessToken(call.principal, id: try Self.tokenID(call), presented: call.credential)
                return RESTResponse.noContent()
            }
            self.add(.post, "personal_access_tokens/\(selector)/rotate") { call in
                let issued = try await service.rotatePersonalAccessToken(
                    call.principal, id: try Self.tokenID(call), presented: call.credential, expiresAt: try call.day("expires_at")
                )
                return RESTResponse.json(Representations.personalAccessToken(issued.token, secret: issued.secret))
            }
        }
    }

    private static func tokenID(_ call: RESTCall) throws -> Int64? {
        call.pathParameters["id"] == nil ? nil : try call.pathID("id")
    }

    static func scopes(_ call: RESTCall) throws -> Set<TokenScope> {
        guard let names = call.list("scopes"), !names.isEmpty else { throw RESTError.missing("scopes") }
        return Set(try names.map { name in
            guard let scope = TokenScope(rawValue: name) else { throw RESTError.invalidField("scopes", "can only contain available scopes") }
            return scope
        })
    }

    private mutating func addGroupsAndProjects(_ service: ManagementService) {
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
                call.principal, path: try call.required("path"), name: try call.required("name"),
                parentID: try call.int("parent_id"), visibility: try call.visibility(default: .private)!,
                description: call.string("description")
            )
            return RESTResponse.json(try await Self.group(group, service, call), status: .created)
        }
        self.add(.put, "groups/:id") { call in
            let group = try await service.updateGroup(
                call.principal, call.path("id"), name: call.string("name"), visibility: try call.visibility(), description: call.string("description")
            )
            return RESTResponse.json(try await Self.group(group, service, call))
        }
        self.add(.delete, "groups/:id") { call in
            try await service.deleteGroup(call.principal, call.path("id"))
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
                call.principal, path: call.string("path"), name: call.string("name"),
                namespaceID: try call.int("namespace_id"), visibility: try call.visibility(default: .private)!,
                description: call.string("description")
            )
            return RESTResponse.json(try await Self.project(project, service, call), status: .created)
        }
        self.add(.put, "projects/:id") { call in
            let project = try await service.updateProject(
                call.principal, call.path("id"), name: call.string("name"), visibility: try call.visibility(), description: call.string("description")
            )
            return RESTResponse.json(try await Self.project(project, service, call))
        }
        self.add(.delete, "projects/:id") { call in
            try await service.deleteProject(call.principal, call.path("id"))
            return RESTResponse.accepted()
        }
    }

    private static func projectList(_ projects: [Project], service: ManagementService, call: RESTCall) async throws -> Response {
        let page = call.page
        var items: [JSONValue] = []
        for project in projects.dropFirst((page.page - 1) * page.perPage).prefix(page.perPage) {
            items.append(try await Self.project(project, service, call))
        }
        return RESTResponse.page(items, total: projects.count, request: page, call: call)
    }

    private static func group(_ group: Namespace, _ service: ManagementService, _ call: RESTCall) async throws -> JSONValue {
        Representations.group(group, fullName: try await service.fullName(of: group), webBase: call.externalBase)
    }

    private static func groups(_ groups: [Namespace], _ service: ManagementService, _ call: RESTCall) async throws -> [JSONValue] {
        var rendered: [JSONValue] = []
        for group in groups { rendered.append(try await Self.group(group, service, call)) }
        return rendered
    }

    private static func project(_ project: Project, _ service: ManagementService, _ call: RESTCall) async throws -> JSONValue {
        let namespace = try await service.namespace(of: project)
        var fullName: String?
        if let namespace { fullName = try await service.fullName(of: namespace) }
        return Representations.project(project, namespace: namespace, namespaceFullName: fullName, webBase: call.externalBase)
    }

    private mutating func addMembers(_ service: ManagementService) {
        for (kind, reference) in [("groups", ResourceReference.group), ("projects", ResourceReference.project)] {
            self.add(.get, "\(kind)/:id/members") { call in
                let members = try await service.members(call.principal, of: reference(call.path("id")), inherited: false)
                return RESTResponse.page(members.map { Representations.member($0.member) }, call: call)
            }
            self.add(.get, "\(kind)/:id/members/all") { call in
                let members = try await service.members(call.principal, of: reference(call.path("id")), inherited: true)
                return RESTResponse.page(members.map { Representations.member($0.member) }, call: call)
            }
            self.add(.get, "\(kind)/:id/members/:user_id") { call in
                let member = try await service.member(call.principal, of: reference(call.path("id")), userID: try call.pathID("user_id"), inherited: false)
                return RESTResponse.json(Representations.member(member.member))
            }
            self.add(.get, "\(kind)/:id/members/all/:user_id") { call in
                let member = try await service.member(call.principal, of: reference(call.path("id")), userID: try call.pathID("user_id"), inherited: true)
                return RESTResponse.json(Representations.member(member.member))
            }
            self.add(.post, "\(kind)/:id/members") { call in
                guard let userID = try call.int("user_id") else { throw RESTError.missing("user_id") }
                let member = try await service.addMember(
                    call.principal, to: reference(call.path("id")), userID: userID, accessLevel: try Self.accessLevel(call)
                )
                return RESTResponse.json(Representations.member(member), status: .created)
            }
            self.add(.put, "\(kind)/:id/members/:user_id") { call in
                let member = try await service.updateMember(
                    call.principal, of: reference(call.path("id")), userID: try call.pathID("user_id"), accessLevel: try Self.accessLevel(call)
                )
                return RESTResponse.json(Representations.member(member))
            }
            self.add(.delete, "\(kind)/:id/members/:user_id") { call in
                try await service.removeMember(call.principal, from: reference(call.path("id")), userID: try call.pathID("user_id"))
                return RESTResponse.noContent()
            }
        }
    }

    private static func accessLevel(_ call: RESTCall) throws -> AccessLevel {
        guard let value = try call.int("access_level") else { throw RESTError.missing("access_level") }
        guard let level = AccessLevel(rawValue: Int(value)) else { throw RESTError.invalidField("access_level", "does not have a valid value") }
        return level
    }

    private mutating func addDeployTokens(_ service: ManagementService) {
        for (kind, reference) in [("groups", ResourceReference.group), ("projects", ResourceReference.project)] {
            self.add(.get, "\(kind)/:id/deploy_tokens") { call in
                let tokens = try await service.deployTokens(call.principal, of: reference(call.path("id")))
                return RESTResponse.page(tokens.map { Representations.deployToken($0) }, call: call)
            }
            self.add(.get, "\(kind)/:id/deploy_tokens/:token_id") { call in
                let id = try call.pathID("token_id")
                guard let token = try await service.deployTokens(call.principal, of: reference(call.path("id"))).first(where: { $0.id == id }) else {
                    throw RegistryError.notFound("404 Deploy Token Not Found")
                }
                return RESTResponse.json(Representations.deployToken(token))
            }
            self.add(.post, "\(kind)/:id/deploy_tokens") { call in
                let issued = try await service.createDeployToken(
                    call.principal, for: reference(call.path("id")), name: try call.required("name"), username: call.string("username"),
                    scopes: try Self.scopes(call), expiresAt: try call.day("expires_at")
                )
                return RESTResponse.json(Representations.deployToken(issued.token, secret: issued.secret), status: .created)
            }
            self.add(.delete, "\(kind)/:id/deploy_tokens/:token_id") { call in
                try await service.deleteDeployToken(call.principal, of: reference(call.path("id")), id: try call.pathID("token_id"))
                return RESTResponse.noContent()
            }
        }
    }

    private mutating func addPackages(_ service: ManagementService) {
        for (kind, reference) in [("groups", ResourceReference.group), ("projects", ResourceReference.project)] {
            self.add(.get, "\(kind)/:id/packages") { call in
                let page = call.page
                // Only PyPI packages live here: any other package_type lists nothing.
                if let type = call.string("package_type"), type != "pypi" {
                    return RESTResponse.page([], total: 0, request: page, call: call)
                }
                let key = try call.string("order_by").map { value in
                    guard let key = PackageOrder.Key(rawValue: value) else { throw RESTError.invalidField("order_by", "does not have a valid value") }
                    return key
                } ?? .createdAt
                let order = PackageOrder(key: key, ascending: call.string("sort")?.lowercased() != "desc")
                let packages = try await service.packages(
                    call.principal, of: reference(call.path("id")), name: call.string("package_name"), order: order, page: page
                )
                return RESTResponse.page(packages.items.map(Representations.package), total: packages.total, request: page, call: call)
            }
        }
        self.add(.get, "projects/:id/packages/:package_id") { call in
            let package = try await service.package(call.principal, project: call.path("id"), id: try call.pathID("package_id"), action: .read)
            return RESTResponse.json(Representations.package(package))
        }
        self.add(.delete, "projects/:id/packages/:package_id") { call in
            try await service.deletePackage(call.principal, project: call.path("id"), id: try call.pathID("package_id"))
            return RESTResponse.noContent()
        }
        self.add(.get, "projects/:id/packages/:package_id/package_files") { call in
            let files = try await service.packageFiles(call.principal, project: call.path("id"), packageID: try call.pathID("package_id"))
            return RESTResponse.page(files.map(Representations.packageFile), call: call)
        }
        self.add(.delete, "projects/:id/packages/:package_id/package_files/:file_id") { call in
            try await service.deletePackageFile(
                call.principal, project: call.path("id"), packageID: try call.pathID("package_id"), fileID: try call.pathID("file_id")
            )
            return RESTResponse.noContent()
        }
    }
}

