import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Registry
@testable import RegistryServer

/// Forwarding over real HTTP, without an upstream: the settings API's permissions and checks, the
/// group override, redirect mode and the names that never forward. (Cache mode needs an upstream;
/// Tests/e2e/test_upstream_cache.py drives it.)
@Suite struct ForwardingHTTPTests {
    static let upstream = "http://127.0.0.1:9/simple/"

    @Test func settingsAreForAdministratorsAndChecked() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            #expect(try await RESTHTTPTests.send(client, .get, "application/settings", [:]).status == .unauthorized)
            #expect(try await RESTHTTPTests.send(client, .get, "application/settings", server.basic("dev")).status == .forbidden)
            #expect(try await RESTHTTPTests.send(client, .put, "application/settings", server.basic("dev"), json: "{}").status == .forbidden)
            let defaults = try RESTHTTPTests.object(try await RESTHTTPTests.send(client, .get, "application/settings", root))
            #expect(defaults["pypi_package_requests_forwarding"] as? Bool == false)
            #expect(defaults["pypi_package_requests_forwarding_mode"] as? String == "cache")
            #expect(defaults["pypi_upstream_url"] is NSNull)
            #expect(defaults["pypi_upstream_ttl_seconds"] as? Int == 600)

            // Forwarding needs an upstream; a refused change changes nothing.
            let refused = try await RESTHTTPTests.send(
                client,
                .put,
                "application/settings",
                root,
                json: #"{"pypi_package_requests_forwarding": true}"#
            )
            #expect(refused.status == .badRequest)
            let message = try #require(try RESTHTTPTests.object(refused)["message"] as? [String: [String]])
            #expect(message["pypi_package_requests_forwarding"]?.first?.contains("pypi_upstream_url") == true)
            for bad in [
                #"{"pypi_upstream_url": "ftp://x/simple"}"#, #"{"pypi_package_requests_forwarding_mode": "proxy"}"#,
                #"{"pypi_upstream_ttl_seconds": -1}"#, #"{"pypi_package_requests_forwarding": "maybe"}"#,
            ] {
                #expect(try await RESTHTTPTests.send(client, .put, "application/settings", root, json: bad).status == .badRequest, "\(bad)")
            }
            #expect(
                try RESTHTTPTests.object(try await RESTHTTPTests.send(client, .get, "application/settings", root)) as NSDictionary == defaults
                    as NSDictionary
            )

            let changed = try await RESTHTTPTests.send(
                client,
                .put,
                "application/settings",
                root,
                json: #"{"pypi_package_requests_forwarding": true, "pypi_upstream_url": "\#(Self.upstream)", "pypi_upstream_password": "s3cret"}"#
            )
            #expect(changed.status == .ok)
            #expect(!String(buffer: changed.body).contains("s3cret"))
            let shown = try RESTHTTPTests.object(changed)
            #expect(shown["pypi_package_requests_forwarding"] as? Bool == true)
            #expect(shown["pypi_upstream_password_set"] as? Bool == true)
        }
    }

    @Test func redirectModeForwardsOnlyUnknownNamesAfterAuthorisation() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let settings =
                #"{"pypi_package_requests_forwarding": true, "pypi_upstream_url": "\#(Self.upstream)", "pypi_package_requests_forwarding_mode": "redirect"}"#
            #expect(try await RESTHTTPTests.send(client, .put, "application/settings", root, json: settings).status == .ok)

            let page = "/api/v4/groups/acme/-/packages/pypi/simple/Requests_Extra/"
            let redirected = try await client.execute(uri: page, method: .get, headers: [:])
            #expect(redirected.status == .found)
            #expect(redirected.headers[.location] == Self.upstream + "requests-extra/")
            // The root index and file routes never forward.
            #expect(try await client.execute(uri: "/api/v4/groups/acme/-/packages/pypi/simple/", method: .get, headers: [:]).status == .ok)
            let file = "/api/v4/groups/acme/-/packages/pypi/files/\(String(repeating: "a", count: 64))/requests_extra-1.0.tar.gz"
            #expect(try await client.execute(uri: file, method: .get, headers: [:]).status == .notFound)
            // Authorisation comes first: a private project is 401 to anonymous, 404 to an outsider.
            let hidden = "/api/v4/projects/\(server.projects["acme/lib"]!.id)/packages/pypi/simple/requests-extra/"
            #expect(try await client.execute(uri: hidden, method: .get, headers: [:]).status == .unauthorized)
            #expect(try await client.execute(uri: hidden, method: .get, headers: server.basic("outsider")).status == .notFound)
            #expect(try await client.execute(uri: hidden, method: .get, headers: server.basic("rep")).status == .found)

            // A group that opts out, and its subgroups, stop forwarding.
            let acme = server.groups["acme"]!.id
            let off = try await RESTHTTPTests.send(client, .put, "groups/\(acme)", root, json: #"{"pypi_package_requests_forwarding": false}"#)
            #expect(try RESTHTTPTests.object(off)["pypi_package_requests_forwarding"] as? Bool == false)
            #expect(try await client.execute(uri: page, method: .get, headers: [:]).status == .notFound)
            let inherit = try await RESTHTTPTests.send(client, .put, "groups/\(acme)", root, json: #"{"pypi_package_requests_forwarding": null}"#)
            #expect(try RESTHTTPTests.object(inherit)["pypi_package_requests_forwarding"] is NSNull)
            #expect(try await client.execute(uri: page, method: .get, headers: [:]).status == .found)
        }
    }

    @Test func aDeletedPackageKeepsItsNameFromForwarding() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let settings =
                #"{"pypi_package_requests_forwarding": true, "pypi_upstream_url": "\#(Self.upstream)", "pypi_package_requests_forwarding_mode": "redirect"}"#
            #expect(try await RESTHTTPTests.send(client, .put, "application/settings", root, json: settings).status == .ok)
            let project = server.projects["acme/sub/deep"]!
            let request = UploadRequest(fileName: "corp_auth-1.0.tar.gz", name: "corp-auth", version: "1.0", requiresPython: nil)
            let upload = try await server.elsewhere.publisher.beginUpload(fileName: request.fileName)
            try await upload.append(ByteBuffer(bytes: [1, 2, 3]))
            _ = try await server.elsewhere.publisher.publish(request, upload: upload, to: project, author: .commandLine())
            try await Task.sleep(for: CacheLifetimes.packagesVersions + .milliseconds(50))

            // A name in a private project below the group never forwards, even to anonymous callers who cannot see it.
            let page = "/api/v4/groups/acme/-/packages/pypi/simple/corp-auth/"
            #expect(try await client.execute(uri: page, method: .get, headers: [:]).status == .notFound)

            let packages = try RESTHTTPTests.array(try await RESTHTTPTests.send(client, .get, "projects/\(project.id)/packages", root))
            let id = try #require(packages.first?["id"] as? Int)
            #expect(try await RESTHTTPTests.send(client, .delete, "projects/\(project.id)/packages/\(id)", root).status == .noContent)
            #expect(try await client.execute(uri: page, method: .get, headers: [:]).status == .notFound)
            let reserved = try RESTHTTPTests.array(
                try await RESTHTTPTests.send(client, .get, "projects/\(project.id)/packages/pypi/reserved_names", root)
            )
            #expect(reserved.map { $0["name"] as? String } == ["corp-auth"])
            #expect(
                try await RESTHTTPTests.send(client, .get, "projects/\(project.id)/packages/pypi/reserved_names", server.basic("dev")).status
                    == .forbidden
            )
            #expect(
                try await RESTHTTPTests.send(client, .delete, "projects/\(project.id)/packages/pypi/reserved_names/Corp_Auth", root).status
                    == .noContent
            )
            #expect(
                try await RESTHTTPTests.send(client, .delete, "projects/\(project.id)/packages/pypi/reserved_names/corp-auth", root).status
                    == .notFound
            )
            #expect(try await client.execute(uri: page, method: .get, headers: [:]).status == .found)
        }
    }
}
