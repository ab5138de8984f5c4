import Hummingbird
import Registry

/// Every REST route and what it does. Handlers only translate between HTTP and `ManagementService`,
/// where the rules live.
extension RESTRouter {
    static func make(_ service: ManagementService, settings: SettingsService) -> RESTRouter {
        var router = RESTRouter()
        router.addMeta(service)
        router.addUsers(service)
        router.addTokens(service)
        router.addGroupsAndProjects(service)
        router.addMembers(service)
        router.addDeployTokens(service)
        router.addPackages(service)
        router.addSettings(settings)
        router.addReservedNames(service)
        router.addAuditEvents(service.audit)
        return router
    }

    private mutating func addMeta(_ service: ManagementService) {
        let version = JSONValue.object([("version", .string(WheelhouseVersion.current)), ("revision", .string("wheelhouse"))])
        // Any valid credential, a deploy token's included (CI checks the registry answers with it).
        self.add(.get, "version") { call in
            guard !call.principal.isAnonymous else { throw RegistryError.unauthenticated }
            return RESTResponse.json(version)
        }
        self.add(.get, "metadata") { call in
            guard !call.principal.isAnonymous else { throw RegistryError.unauthenticated }
            return RESTResponse.json(
                .object([
                    ("version", .string(WheelhouseVersion.current)), ("revision", .string("wheelhouse")),
                    ("kas", .object([("enabled", .bool(false)), ("externalUrl", .null), ("version", .null)])),
                    ("enterprise", .bool(false)), ("product", .string("Wheelhouse")),
                ])
            )
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
            let user = try await service.createUser(
                call.principal,
                username: try call.required("username"),
                isAdmin: call.bool("admin"),
                password: call.string("password"),
                author: call.author
            )
            return RESTResponse.json(Representations.user(user), status: .created)
        }
        self.add(.put, "users/:id") { call in
            let user = try await service.updateUser(
                call.principal,
                id: try call.pathID("id"),
                password: call.string("password"),
                isAdmin: try call.strictBool("admin"),
                author: call.author
            )
            return RESTResponse.json(Representations.user(user))
        }
        self.add(.delete, "users/:id") { call in
            try await service.deleteUser(call.principal, id: try call.pathID("id"), author: call.author)
            return RESTResponse.noContent()
        }
    }

    private mutating func addTokens(_ service: ManagementService) {
        self.add(.post, "users/:id/personal_access_tokens") { call in
            let issued = try await service.createPersonalAccessToken(
                call.principal,
                userID: try call.pathID("id"),
                name: try call.required("name"),
                scopes: try Self.scopes(call),
                expiresAt: try call.day("expires_at"),
                author: call.author
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
                try await service.revokePersonalAccessToken(
                    call.principal,
                    id: try Self.tokenID(call),
                    presented: call.credential,
                    author: call.author
                )
                return RESTResponse.noContent()
            }
            self.add(.post, "personal_access_tokens/\(selector)/rotate") { call in
                let issued = try await service.rotatePersonalAccessToken(
                    call.principal,
                    id: try Self.tokenID(call),
                    presented: call.credential,
                    expiresAt: try call.day("expires_at"),
                    author: call.author
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
        return Set(
            try names.map { name in
                guard let scope = TokenScope(rawValue: name) else { throw RESTError.invalidField("scopes", "can only contain available scopes") }
                return scope
            }
        )
    }
}
