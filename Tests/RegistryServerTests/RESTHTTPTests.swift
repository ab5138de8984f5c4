import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Registry
@testable import RegistryServer

/// GitLab's REST API over real HTTP: shapes, permissions, pagination.
@Suite struct RESTHTTPTests {
    static func json(_ response: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try json(response) as? [String: Any], "\(String(buffer: response.body))")
    }

    static func array(_ response: TestResponse) throws -> [[String: Any]] {
        try #require(try json(response) as? [[String: Any]], "\(String(buffer: response.body))")
    }

    static func send(
        _ client: some TestClientProtocol,
        _ method: HTTPRequest.Method,
        _ uri: String,
        _ auth: HTTPFields,
        json body: String? = nil
    ) async throws -> TestResponse {
        var headers = auth
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: "/api/v4/" + uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    @Test func usersAndTokens() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let dev = server.basic("dev")
            let me = try Self.object(try await Self.send(client, .get, "user", dev))
            #expect(me["username"] as? String == "dev" && me["state"] as? String == "active")
            #expect(try await Self.send(client, .get, "user", [:]).status == .unauthorized)
            #expect(try await Self.send(client, .get, "user", server.basic("deploy-read")).status == .unauthorized)

            let created = try await Self.send(
                client,
                .post,
                "users",
                root,
                json: #"{"username": "newbie", "name": "N", "email": "n@example.com", "password": "x-long-enough"}"#
            )
            #expect(created.status == .created)
            let newbie = try Self.object(created)
            let id = try #require(newbie["id"] as? Int)
            #expect(try await Self.send(client, .post, "users", dev, json: #"{"username": "nope"}"#).status == .forbidden)
            #expect(try await Self.send(client, .post, "users", root, json: #"{"name": "no username"}"#).status == .badRequest)
            let taken = try await Self.send(client, .post, "users", root, json: #"{"username": "dev"}"#)
            #expect(taken.status == .badRequest && String(buffer: taken.body).contains("has already been taken"))
            let filtered = try Self.array(try await Self.send(client, .get, "users?username=newbie", dev))
            #expect(filtered.map { $0["id"] as? Int } == [id])

            let token = try Self.object(
                try await Self.send(client, .post, "users/\(id)/personal_access_tokens", root, json: #"{"name": "ci", "scopes": ["read_api"]}"#)
            )
            let secret = try #require(token["token"] as? String)
            #expect(token["scopes"] as? [String] == ["read_api"] && token["active"] as? Bool == true)
            #expect(
                try await Self.send(client, .post, "users/\(id)/personal_access_tokens", dev, json: #"{"name": "x", "scopes": ["api"]}"#).status
                    == .forbidden
            )
            let newbieAuth: HTTPFields = [.init("PRIVATE-TOKEN")!: secret]
            let own = try Self.array(try await Self.send(client, .get, "personal_access_tokens", newbieAuth))
            #expect(own.count == 1 && own[0]["token"] == nil)
            let selfToken = try Self.object(try await Self.send(client, .get, "personal_access_tokens/self", newbieAuth))
            #expect(selfToken["id"] as? Int == token["id"] as? Int)

            let rotated = try Self.object(try await Self.send(client, .post, "personal_access_tokens/self/rotate", newbieAuth))
            let newSecret = try #require(rotated["token"] as? String)
            #expect(try await Self.send(client, .get, "user", newbieAuth).status == .unauthorized)
            let rotatedAuth: HTTPFields = [.init("PRIVATE-TOKEN")!: newSecret]
            #expect(try await Self.send(client, .get, "user", rotatedAuth).status == .ok)
            // read_api may read but not write.
            #expect(try await Self.send(client, .post, "groups", rotatedAuth, json: #"{"name": "g", "path": "g"}"#).status == .forbidden)
            #expect(try await Self.send(client, .delete, "personal_access_tokens/self", rotatedAuth).status == .noContent)
            #expect(try await Self.send(client, .get, "user", rotatedAuth).status == .unauthorized)

            #expect(try await Self.send(client, .delete, "users/\(id)", dev).status == .forbidden)
            #expect(try await Self.send(client, .delete, "users/\(id)", root).status == .noContent)
            #expect(try await Self.send(client, .get, "users/\(id)", root).status == .notFound)
            let version = try Self.object(try await Self.send(client, .get, "version", dev))
            #expect(version["version"] is String)
        }
    }

    @Test func groupsProjectsAndPagination() async throws {
        try await TestServer.run { server, client in
            let dev = server.basic("dev")
            let outsider = server.basic("outsider")
            let group = try Self.object(try await Self.send(client, .post, "groups", outsider, json: #"{"name": "Team", "path": "team"}"#))
            let groupID = try #require(group["id"] as? Int)
            #expect(group["full_path"] as? String == "team")
            let sub = try Self.object(
                try await Self.send(client, .post, "groups", outsider, json: #"{"name": "sub", "path": "sub", "parent_id": \#(groupID)}"#)
            )
            #expect(sub["full_path"] as? String == "team/sub" && sub["parent_id"] as? Int == groupID)
            #expect(
                try await Self.send(client, .post, "groups", dev, json: #"{"name": "x", "path": "x", "parent_id": \#(groupID)}"#).status == .notFound
            )
            #expect(try await Self.send(client, .post, "groups", outsider, json: #"{"name": "Team", "path": "team"}"#).status == .badRequest)
            let badVisibility = try await Self.send(client, .post, "groups", outsider, json: #"{"name": "v", "path": "v", "visibility": "secret"}"#)
            #expect(badVisibility.status == .badRequest)
            #expect(try Self.object(badVisibility)["message"] is [String: Any])

            for index in 0..<25 {
                let project = try await Self.send(client, .post, "projects", outsider, json: #"{"name": "p\#(index)", "namespace_id": \#(groupID)}"#)
                #expect(project.status == .created)
            }
            let first = try await Self.send(client, .get, "groups/team/projects?per_page=10&page=2", outsider)
            #expect(first.headers[.init("X-Total")!] == "25" && first.headers[.init("X-Total-Pages")!] == "3")
            #expect(
                first.headers[.init("X-Page")!] == "2" && first.headers[.init("X-Next-Page")!] == "3" && first.headers[.init("X-Prev-Page")!] == "1"
            )
            #expect(first.headers[.init("Link")!]?.contains(#"page=3&per_page=10>; rel="next""#) == true)
            #expect(try Self.array(first).count == 10)
            let last = try await Self.send(client, .get, "groups/team/projects?per_page=10&page=3", outsider)
            #expect(try Self.array(last).count == 5 && last.headers[.init("X-Next-Page")!] == "")
            let clamped = try await Self.send(client, .get, "groups/team/projects?per_page=1000", outsider)
            #expect(clamped.headers[.init("X-Per-Page")!] == "100")

            // Private things stay invisible to others; public ones are listed for them.
            #expect(try await Self.send(client, .get, "groups/team", dev).status == .notFound)
            #expect(try await Self.send(client, .get, "projects/team%2Fp0", dev).status == .notFound)
            #expect(try await Self.send(client, .get, "projects/team%2Fp0", [:]).status == .unauthorized)
            let project = try Self.object(try await Self.send(client, .get, "projects/team%2Fp0", outsider))
            #expect(project["path_with_namespace"] as? String == "team/p0")
            #expect((project["namespace"] as? [String: Any])?["full_path"] as? String == "team")
            let renamed = try Self.object(try await Self.send(client, .put, "projects/team%2Fp0", outsider, json: #"{"name": "Renamed"}"#))
            #expect(renamed["name"] as? String == "Renamed")
            #expect(try await Self.send(client, .delete, "projects/team%2Fp1", outsider).status == .accepted)
            #expect(try await Self.send(client, .get, "projects/team%2Fp1", outsider).status == .notFound)
            #expect(try await Self.send(client, .delete, "groups/team", outsider).status == .accepted)
            #expect(try await Self.send(client, .get, "projects/team%2Fp0", outsider).status == .notFound)
        }
    }

    @Test func membersAndDeployTokens() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let rep = server.basic("rep")
            let outsiderID = try #require(try Self.object(try await Self.send(client, .get, "user", server.basic("outsider")))["id"] as? Int)
            let all = try Self.array(try await Self.send(client, .get, "projects/acme%2Flib/members/all", rep))
            #expect(Set(all.compactMap { $0["username"] as? String }).isSuperset(of: ["dev", "rep", "guest", "maintainer"]))
            let direct = try Self.array(try await Self.send(client, .get, "projects/acme%2Flib/members", rep))
            #expect(!direct.contains { $0["username"] as? String == "dev" })

            #expect(
                try await Self.send(client, .post, "projects/acme%2Flib/members", rep, json: #"{"user_id": \#(outsiderID), "access_level": 20}"#)
                    .status == .forbidden
            )
            #expect(
                try await Self.send(
                    client,
                    .post,
                    "projects/acme%2Flib/members",
                    server.basic("maintainer"),
                    json: #"{"user_id": \#(outsiderID), "access_level": 50}"#
                ).status == .forbidden
            )
            let added = try await Self.send(
                client,
                .post,
                "projects/acme%2Flib/members",
                server.basic("maintainer"),
                json: #"{"user_id": \#(outsiderID), "access_level": 20}"#
            )
            let addedMember = try Self.object(added)
            #expect(added.status == .created && addedMember["access_level"] as? Int == 20)
            #expect(
                try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple", method: .get, headers: server.basic("outsider"))
                    .status == .ok
            )
            let updated = try Self.object(
                try await Self.send(client, .put, "projects/acme%2Flib/members/\(outsiderID)", root, json: #"{"access_level": 10}"#)
            )
            #expect(updated["access_level"] as? Int == 10)
            #expect(try await Self.send(client, .delete, "projects/acme%2Flib/members/\(outsiderID)", root).status == .noContent)
            #expect(
                try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple", method: .get, headers: server.basic("outsider"))
                    .status == .notFound
            )

            let created = try Self.object(
                try await Self.send(
                    client,
                    .post,
                    "projects/acme%2Flib/deploy_tokens",
                    root,
                    json: #"{"name": "pull", "scopes": ["read_package_registry"]}"#
                )
            )
            let tokenID = try #require(created["id"] as? Int)
            let secret = try #require(created["token"] as? String)
            #expect((created["username"] as? String)?.hasPrefix("wheelhouse+deploy-token-") == true)
            let listed = try Self.array(try await Self.send(client, .get, "projects/acme%2Flib/deploy_tokens", root))
            #expect(listed.contains { $0["id"] as? Int == tokenID && $0["token"] == nil })
            #expect(try await Self.send(client, .get, "projects/acme%2Flib/deploy_tokens", rep).status == .forbidden)
            let pull: HTTPFields = [.init("Deploy-Token")!: secret]
            #expect(try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple", method: .get, headers: pull).status == .ok)
            #expect(try await Self.send(client, .delete, "projects/acme%2Flib/deploy_tokens/\(tokenID)", root).status == .noContent)
            #expect(
                try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple", method: .get, headers: pull).status == .unauthorized
            )
        }
    }

    @Test func packagesListAndDelete() async throws {
        try await TestServer.run { server, client in
            let dev = server.basic("dev")
            for version in ["1.0", "1.1"] {
                let wheel = try TestDistributions.wheel(name: "demo", version: version)
                let form = UploadForm(fileName: "demo-\(version)-py3-none-any.whl", content: wheel, name: "demo", version: version)
                #expect(try await client.upload(form, to: "acme%2Flib", auth: dev).status == .created)
            }
            let sdist = UploadForm(fileName: "demo-1.1.tar.gz", content: [1, 2, 3], name: "demo", version: "1.1")
            #expect(try await client.upload(sdist, to: "acme%2Flib", auth: dev).status == .created)

            let listed = try Self.array(
                try await Self.send(client, .get, "projects/acme%2Flib/packages?order_by=version&sort=desc", server.basic("rep"))
            )
            #expect(listed.map { $0["version"] as? String } == ["1.1", "1.0"])
            #expect(listed.allSatisfy { $0["package_type"] as? String == "pypi" && $0["name"] as? String == "demo" })
            let group = try Self.array(try await Self.send(client, .get, "groups/acme/packages?package_name=DEMO", dev))
            #expect(group.count == 2)
            #expect(try Self.array(try await Self.send(client, .get, "projects/acme%2Flib/packages?package_type=npm", dev)).isEmpty)
            #expect(try await Self.send(client, .get, "projects/acme%2Flib/packages", server.basic("outsider")).status == .notFound)

            let newest = try #require(listed.first?["id"] as? Int)
            let files = try Self.array(try await Self.send(client, .get, "projects/acme%2Flib/packages/\(newest)/package_files", dev))
            #expect(Set(files.compactMap { $0["file_name"] as? String }) == ["demo-1.1-py3-none-any.whl", "demo-1.1.tar.gz"])
            #expect(files.allSatisfy { ($0["file_sha256"] as? String)?.count == 64 })
            let sdistID = try #require(files.first { $0["file_name"] as? String == "demo-1.1.tar.gz" }?["id"] as? Int)

            #expect(try await Self.send(client, .delete, "projects/acme%2Flib/packages/\(newest)/package_files/\(sdistID)", dev).status == .forbidden)
            #expect(
                try await Self.send(client, .delete, "projects/acme%2Flib/packages/\(newest)/package_files/\(sdistID)", server.basic("maintainer"))
                    .status == .noContent
            )
            let page = String(
                buffer: try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo", method: .get, headers: dev).body
            )
            #expect(!page.contains("demo-1.1.tar.gz") && page.contains("demo-1.1-py3-none-any.whl"))
            #expect(
                try await client.execute(
                    uri: "/api/v4/projects/acme%2Flib/packages/pypi/files/\(PyPIHTTPTests.sha256([1, 2, 3]))/demo-1.1.tar.gz",
                    method: .get,
                    headers: dev
                ).status == .notFound
            )

            #expect(try await Self.send(client, .delete, "projects/acme%2Flib/packages/\(newest)", server.basic("maintainer")).status == .noContent)
            let after = String(
                buffer: try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo", method: .get, headers: dev).body
            )
            #expect(!after.contains("demo-1.1") && after.contains("demo-1.0-py3-none-any.whl"))
            #expect(try await Self.send(client, .get, "projects/acme%2Flib/packages/\(newest)", dev).status == .notFound)
        }
    }
}
