import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Registry
@testable import RegistryServer

/// GitLab's audit events API over HTTP: who may read which events, the fields, GitLab's
/// pagination and the period filters, a refused change recording nothing, and no secret in any
/// event. The test server's cast is made at the command line, so its 25 events come first.
@Suite struct AuditEventsHTTPTests {
    typealias REST = RESTHTTPTests
    static let castEvents = 25

    static func status(_ client: some TestClientProtocol, _ server: TestServer, _ path: String, _ who: String?) async throws -> HTTPResponse.Status {
        try await REST.send(client, .get, path, who.map(server.basic) ?? [:]).status
    }

    static func total(_ client: some TestClientProtocol, _ server: TestServer, _ query: String) async throws -> String? {
        let response = try await REST.send(client, .get, "audit_events?\(query)", server.basic("root"))
        #expect(response.status == .ok, "\(query)")
        return response.headers[.init("X-Total")!]
    }

    @Test func whoMayReadWhichEvents() async throws {
        try await TestServer.run { server, client in
            // A `try` outside the macros, so that the closure is seen to throw.
            let everything = try await Self.status(client, server, "audit_events", "root")
            #expect(everything == .ok)
            #expect(try await Self.status(client, server, "audit_events", nil) == .unauthorized)
            #expect(try await Self.status(client, server, "audit_events", "dev") == .forbidden)
            #expect(try await Self.status(client, server, "audit_events", "maintainer") == .forbidden)
            #expect(try await Self.status(client, server, "audit_events", "deploy-read") == .unauthorized)
            #expect(try await Self.status(client, server, "audit_events", "dev-expired") == .unauthorized)
            #expect(try await Self.status(client, server, "audit_events", "root") == .ok)

            // acme is public: anyone sees it, only its maintainers and owners (and administrators) read its events.
            #expect(try await Self.status(client, server, "groups/acme/audit_events", nil) == .unauthorized)
            #expect(try await Self.status(client, server, "groups/acme/audit_events", "dev") == .forbidden)
            #expect(try await Self.status(client, server, "groups/acme/audit_events", "outsider") == .forbidden)
            #expect(try await Self.status(client, server, "groups/acme/audit_events", "root") == .ok)
            #expect(try await Self.status(client, server, "groups/\(server.groups["acme"]!.id)/audit_events", "root") == .ok)
            // A private group the caller cannot see is not found.
            #expect(try await Self.status(client, server, "groups/acme%2Fsub/audit_events", "outsider") == .notFound)
            #expect(try await Self.status(client, server, "groups/nothing/audit_events", "root") == .notFound)

            #expect(try await Self.status(client, server, "projects/acme%2Flib/audit_events", nil) == .unauthorized)
            #expect(try await Self.status(client, server, "projects/acme%2Flib/audit_events", "maintainer") == .ok)
            #expect(try await Self.status(client, server, "projects/acme%2Flib/audit_events", "dev") == .forbidden)
            #expect(try await Self.status(client, server, "projects/acme%2Flib/audit_events", "rep") == .forbidden)
            #expect(try await Self.status(client, server, "projects/acme%2Flib/audit_events", "outsider") == .notFound)
            #expect(try await Self.status(client, server, "projects/acme%2Flib/audit_events", "root") == .ok)
            // A developer's role is not enough, whatever the token.
            #expect(try await Self.status(client, server, "projects/acme%2Fopen/audit_events", "dev-read") == .forbidden)
            #expect(try await Self.status(client, server, "projects/999999/audit_events", "root") == .notFound)
        }
    }

    @Test func eventsCarryGitLabsFieldsAndTheCallersAddress() async throws {
        try await TestServer.run { server, client in
            let maintainer = server.basic("maintainer")
            let outsiderID = try #require(try REST.object(try await REST.send(client, .get, "user", server.basic("outsider")))["id"] as? Int)
            let maintainerID = try #require(try REST.object(try await REST.send(client, .get, "user", maintainer))["id"] as? Int)
            let added = try await REST.send(
                client,
                .post,
                "projects/acme%2Flib/members",
                maintainer,
                json: "{\"user_id\": \(outsiderID), \"access_level\": 30}"
            )
            #expect(added.status == .created)
            let form = UploadForm(fileName: "demo-1.0.tar.gz", content: [1, 2, 3], name: "demo", version: "1.0")
            #expect(try await client.upload(form, to: "acme%2Flib", auth: server.basic("deploy-write")).status == .created)

            let listed = try await REST.send(client, .get, "projects/acme%2Flib/audit_events", maintainer)
            let events = try REST.array(listed)
            // Newest first: the upload, the member, then the cast's (the project, its members, its deploy token).
            #expect(events.compactMap { $0["event_name"] as? String }.prefix(2) == ["package_uploaded", "member_added"])
            #expect(events.last?["event_name"] as? String == "project_created")
            let upload = events[0]
            let uploadDetails = try #require(upload["details"] as? [String: Any])
            #expect(upload["author_id"] as? Int == -2 && uploadDetails["author_class"] as? String == "DeployToken")
            #expect((uploadDetails["author_name"] as? String)?.hasPrefix("deploy token ") == true)
            #expect(uploadDetails["target_type"] as? String == "PackageFile" && uploadDetails["target_details"] as? String == "demo-1.0.tar.gz")

            let member = events[1]
            #expect(Set(member.keys) == ["id", "author_id", "entity_id", "entity_type", "event_name", "details", "created_at"])
            #expect(member["author_id"] as? Int == maintainerID)
            #expect(member["entity_id"] as? Int == Int(server.projects["acme/lib"]!.id) && member["entity_type"] as? String == "Project")
            let details = try #require(member["details"] as? [String: Any])
            #expect(details["author_name"] as? String == "maintainer" && details["author_class"] as? String == "User")
            #expect(details["ip_address"] as? String == "127.0.0.1")
            #expect(details["entity_path"] as? String == "acme/lib")
            #expect(details["target_id"] as? Int == outsiderID && details["target_type"] as? String == "User")
            #expect(details["target_details"] as? String == "outsider" && details["to"] as? String == "developer")
            #expect((details["custom_message"] as? String)?.isEmpty == false)
            let created = try #require(member["created_at"] as? String)
            #expect(ISO8601Instant.parse(created, endOfDay: false) != nil && created.hasSuffix("Z"))

            // The cast's events were made at the command line.
            let cast = try #require(events.last?["details"] as? [String: Any])
            #expect(events.last?["author_id"] as? Int == -1 && cast["author_class"] as? String == "CommandLine")
            #expect(cast["ip_address"] is NSNull)
        }
    }

    @Test func pagesAsTheOtherListsDo() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let first = try await REST.send(client, .get, "audit_events?per_page=10", root)
            #expect(first.headers[.init("X-Total")!] == String(Self.castEvents))
            #expect(first.headers[.init("X-Total-Pages")!] == "3")
            #expect(first.headers[.init("X-Page")!] == "1" && first.headers[.init("X-Per-Page")!] == "10")
            #expect(first.headers[.init("X-Next-Page")!] == "2" && first.headers[.init("X-Prev-Page")!] == "")
            let link = try #require(first.headers[.init("Link")!])
            #expect(link.contains("/api/v4/audit_events?page=2&per_page=10>; rel=\"next\"") && link.contains("rel=\"last\""))
            let ids = try REST.array(first).compactMap { $0["id"] as? Int }
            #expect(ids.count == 10 && ids == ids.sorted(by: >))

            let last = try await REST.send(client, .get, "audit_events?per_page=10&page=3", root)
            #expect(try REST.array(last).count == 5)
            #expect(last.headers[.init("X-Next-Page")!] == "" && last.headers[.init("X-Prev-Page")!] == "2")
            let lastIDs = try REST.array(last).compactMap { $0["id"] as? Int }
            #expect(lastIDs.allSatisfy { $0 < ids.last! })
            // per_page is capped at 100, as everywhere.
            let capped = try await REST.send(client, .get, "audit_events?per_page=1000", root)
            #expect(capped.headers[.init("X-Per-Page")!] == "100")
            #expect(try REST.array(capped).count == Self.castEvents)
        }
    }

    @Test func createdAfterAndBefore() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let middle = Timestamp.now()
            _ = try await REST.send(client, .post, "groups", root, json: #"{"path": "later", "name": "Later"}"#)
            #expect(try await Self.total(client, server, "created_after=2000-01-01") == String(Self.castEvents + 2))
            #expect(try await Self.total(client, server, "created_before=2000-01-01") == "0")
            #expect(try await Self.total(client, server, "created_after=\(middle.iso8601)") == "2")
            #expect(try await Self.total(client, server, "created_before=\(middle.iso8601)") == String(Self.castEvents))
            #expect(
                try await Self.total(client, server, "created_after=2000-01-01T00:00:00%2B02:00&created_before=\(middle.day.iso8601)")
                    == String(Self.castEvents + 2)
            )
            for bad in ["yesterday", "2026-13-01", "2026-12-03T25:00:00Z", "2026-12-03T10:00:00Zjunk"] {
                let response = try await REST.send(client, .get, "audit_events?created_after=\(bad)", root)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(try REST.object(response)["message"] != nil)
            }
            let before = try await REST.send(client, .get, "groups/acme/audit_events?created_after=2000-01-01&created_before=nope", root)
            #expect(before.status == .badRequest)
            #expect("\(try REST.object(before)["message"] ?? "")".contains("created_before"))
        }
    }

    @Test func aRefusedChangeRecordsNothing() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let devID = try #require(try REST.object(try await REST.send(client, .get, "user", server.basic("dev")))["id"] as? Int)
            // Taken paths and memberships: refused by the database inside the change's transaction.
            #expect(try await REST.send(client, .post, "groups", root, json: #"{"path": "acme", "name": "again"}"#).status.code >= 400)
            #expect(
                try await REST.send(client, .post, "groups/acme/members", root, json: "{\"user_id\": \(devID), \"access_level\": 30}").status
                    .code >= 400
            )
            // Refused by the rules before, or by permissions.
            #expect(
                try await REST.send(client, .post, "projects", server.basic("outsider"), json: #"{"path": "x", "namespace_id": 999}"#).status
                    == .notFound
            )
            #expect(try await REST.send(client, .delete, "projects/acme%2Flib", server.basic("maintainer")).status == .forbidden)
            #expect(try await REST.send(client, .put, "application/settings", root, json: #"{"pypi_upstream_url": "nope"}"#).status == .badRequest)
            let duplicate = UploadForm(fileName: "demo-1.0.tar.gz", content: [1, 2, 3], name: "demo", version: "1.0")
            #expect(try await client.upload(duplicate, to: "acme%2Flib", auth: server.basic("dev")).status == .created)
            #expect(try await Self.total(client, server, "") == String(Self.castEvents + 1))
            // The same bytes again: nothing changes; other bytes under that name: refused.
            #expect(try await client.upload(duplicate, to: "acme%2Flib", auth: server.basic("dev")).status == .ok)
            let other = UploadForm(fileName: "demo-1.0.tar.gz", content: [9], name: "demo", version: "1.0")
            #expect(try await client.upload(other, to: "acme%2Flib", auth: server.basic("dev")).status == .badRequest)
            #expect(try await Self.total(client, server, "") == String(Self.castEvents + 1))
        }
    }

    @Test func noSecretInAnyEvent() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let devID = try #require(try REST.object(try await REST.send(client, .get, "user", server.basic("dev")))["id"] as? Int)
            let created = try REST.object(
                try await REST.send(client, .post, "users/\(devID)/personal_access_tokens", root, json: #"{"name": "ci", "scopes": ["api"]}"#)
            )
            let secret = try #require(created["token"] as? String)
            let tokenID = try #require(created["id"] as? Int)
            let rotated = try REST.object(try await REST.send(client, .post, "personal_access_tokens/\(tokenID)/rotate", root))
            let rotatedSecret = try #require(rotated["token"] as? String)
            let deploy = try REST.object(
                try await REST.send(
                    client,
                    .post,
                    "projects/acme%2Flib/deploy_tokens",
                    root,
                    json: #"{"name": "d", "scopes": ["read_package_registry"]}"#
                )
            )
            let deploySecret = try #require(deploy["token"] as? String)
            let settings = try await REST.send(
                client,
                .put,
                "application/settings",
                root,
                json: #"{"pypi_upstream_url": "http://127.0.0.1:9/simple", "pypi_upstream_password": "upstream-pa55word"}"#
            )
            #expect(settings.status == .ok)

            let body = String(buffer: try await REST.send(client, .get, "audit_events?per_page=100", root).body)
            let events = try REST.array(try await REST.send(client, .get, "audit_events?per_page=100", root))
            #expect(events.count == Self.castEvents + 4)
            for value in [secret, rotatedSecret, deploySecret, "upstream-pa55word"] + Array(server.tokens.values) {
                #expect(!body.contains(value))
            }
            #expect(body.contains("personal_access_token_rotated") && body.contains("settings_updated") && body.contains("[hidden]"))
        }
    }
}
