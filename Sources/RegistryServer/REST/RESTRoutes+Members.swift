import Hummingbird
import Registry

/// Members and deploy tokens of groups and projects.
extension RESTRouter {
    mutating func addMembers(_ service: ManagementService) {
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
                let member = try await service.member(
                    call.principal,
                    of: reference(call.path("id")),
                    userID: try call.pathID("user_id"),
                    inherited: false
                )
                return RESTResponse.json(Representations.member(member.member))
            }
            self.add(.get, "\(kind)/:id/members/all/:user_id") { call in
                let member = try await service.member(
                    call.principal,
                    of: reference(call.path("id")),
                    userID: try call.pathID("user_id"),
                    inherited: true
                )
                return RESTResponse.json(Representations.member(member.member))
            }
            self.add(.post, "\(kind)/:id/members") { call in
                guard let userID = try call.int("user_id") else { throw RESTError.missing("user_id") }
                let member = try await service.addMember(
                    call.principal,
                    to: reference(call.path("id")),
                    userID: userID,
                    accessLevel: try Self.accessLevel(call),
                    author: call.author
                )
                return RESTResponse.json(Representations.member(member), status: .created)
            }
            self.add(.put, "\(kind)/:id/members/:user_id") { call in
                let member = try await service.updateMember(
                    call.principal,
                    of: reference(call.path("id")),
                    userID: try call.pathID("user_id"),
                    accessLevel: try Self.accessLevel(call),
                    author: call.author
                )
                return RESTResponse.json(Representations.member(member))
            }
            self.add(.delete, "\(kind)/:id/members/:user_id") { call in
                try await service.removeMember(
                    call.principal,
                    from: reference(call.path("id")),
                    userID: try call.pathID("user_id"),
                    author: call.author
                )
                return RESTResponse.noContent()
            }
        }
    }

    fileprivate static func accessLevel(_ call: RESTCall) throws -> AccessLevel {
        guard let value = try call.int("access_level") else { throw RESTError.missing("access_level") }
        guard let level = AccessLevel(rawValue: Int(value)) else { throw RESTError.invalidField("access_level", "does not have a valid value") }
        return level
    }

    mutating func addDeployTokens(_ service: ManagementService) {
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
                    call.principal,
                    for: reference(call.path("id")),
                    name: try call.required("name"),
                    username: call.string("username"),
                    scopes: try Self.scopes(call),
                    expiresAt: try call.day("expires_at"),
                    author: call.author
                )
                return RESTResponse.json(Representations.deployToken(issued.token, secret: issued.secret), status: .created)
            }
            self.add(.delete, "\(kind)/:id/deploy_tokens/:token_id") { call in
                try await service.deleteDeployToken(
                    call.principal,
                    of: reference(call.path("id")),
                    id: try call.pathID("token_id"),
                    author: call.author
                )
                return RESTResponse.noContent()
            }
        }
    }
}
