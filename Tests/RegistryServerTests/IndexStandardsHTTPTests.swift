import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Registry
@testable import RegistryServer

/// PEP 691/700/658/592 and HTTP caching over real HTTP against a live server.
@Suite struct IndexStandardsHTTPTests {
    static let pipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"

    static func publish(
        _ client: some TestClientProtocol,
        _ server: TestServer,
        version: String,
        requiresPython: String? = ">=3.9"
    ) async throws -> [UInt8] {
        let wheel = try TestDistributions.wheel(name: "demo", version: version, requiresPython: requiresPython)
        let form = UploadForm(fileName: "demo-\(version)-py3-none-any.whl", content: wheel, name: "demo", version: version)
        let response = try await client.upload(form, to: "acme%2Flib", auth: server.basic("dev"))
        #expect(response.status == .created, "\(String(buffer: response.body))")
        return wheel
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func negotiatesJSONAndHTML() async throws {
        try await TestServer.run { server, client in
            let wheel = try await Self.publish(client, server, version: "1.0")
            let page = "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo"
            func get(_ uri: String, accept: String?) async throws -> TestResponse {
                var headers = server.basic("rep")
                if let accept { headers[.accept] = accept }
                return try await client.execute(uri: uri, method: .get, headers: headers)
            }
            let json = try await get(page, accept: Self.pipAccept)
            #expect(json.status == .ok)
            #expect(json.headers[.contentType] == "application/vnd.pypi.simple.v1+json")
            #expect(json.headers[.vary] == "Accept")
            let body = try Self.json(json)
            #expect((body["meta"] as? [String: Any])?["api-version"] as? String == "1.1")
            #expect(body["name"] as? String == "demo")
            #expect(body["versions"] as? [String] == ["1.0"])
            let file = try #require((body["files"] as? [[String: Any]])?.first)
            #expect(file["filename"] as? String == "demo-1.0-py3-none-any.whl")
            #expect(file["size"] as? Int == wheel.count)
            #expect((file["hashes"] as? [String: String])?["sha256"] == PyPIHTTPTests.sha256(wheel))
            #expect(file["requires-python"] as? String == ">=3.9")  // from the wheel's METADATA: the form had none
            #expect(file["yanked"] as? Bool == false)
            let metadataHash = try #require((file["core-metadata"] as? [String: String])?["sha256"])
            #expect((file["dist-info-metadata"] as? [String: String])?["sha256"] == metadataHash)
            let uploadTime = try #require(file["upload-time"] as? String)
            #expect(uploadTime.count == 27 && uploadTime.hasSuffix("Z"))
            let url = try #require(file["url"] as? String)
            #expect(url.hasSuffix("/api/v4/projects/acme%2Flib/packages/pypi/files/\(PyPIHTTPTests.sha256(wheel))/demo-1.0-py3-none-any.whl"))

            let html = try await get(page, accept: nil)
            #expect(html.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(buffer: html.body).contains(#"<meta name="pypi:repository-version" content="1.1">"#))
            #expect(String(buffer: html.body).contains("data-core-metadata=\"sha256=\(metadataHash)\""))
            #expect(try await get(page, accept: "*/*").headers[.contentType] == "text/html; charset=utf-8")
            #expect(try await get(page, accept: "application/vnd.pypi.simple.v1+html").headers[.contentType] == "application/vnd.pypi.simple.v1+html")
            #expect(try await get(page, accept: "application/json").status == .notAcceptable)
            #expect(
                try await get(page + "?format=application/vnd.pypi.simple.v1+json", accept: nil).headers[.contentType]
                    == "application/vnd.pypi.simple.v1+json"
            )

            let index = try Self.json(try await get("/api/v4/groups/acme/-/packages/pypi/simple", accept: Self.pipAccept))
            #expect((index["projects"] as? [[String: String]])?.map { $0["name"] } == ["demo"])

            // The metadata file is the wheel's METADATA, byte for byte, under the announced digest.
            let metadataPath = "/api/v4/projects/acme%2Flib/packages/pypi/files/\(PyPIHTTPTests.sha256(wheel))/demo-1.0-py3-none-any.whl.metadata"
            let metadata = try await client.execute(uri: metadataPath, method: .get, headers: server.basic("rep"))
            #expect(metadata.status == .ok)
            #expect(Array(metadata.body.readableBytesView) == TestDistributions.metadata(name: "demo", version: "1.0", requiresPython: ">=3.9"))
            #expect(ContentHash.sha256(metadata.body.readableBytesView) == metadataHash)
        }
    }

    @Test func conditionalAndRangeRequests() async throws {
        try await TestServer.run { server, client in
            let wheel = try await Self.publish(client, server, version: "1.0")
            let rep = server.basic("rep")
            let page = "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo"
            let first = try await client.execute(uri: page, method: .get, headers: rep)
            let tag = try #require(first.headers[.eTag])
            #expect(first.headers[.cacheControl]?.hasPrefix("private") == true)
            var conditional = rep
            conditional[.ifNoneMatch] = tag
            let notModified = try await client.execute(uri: page, method: .get, headers: conditional)
            #expect(notModified.status == .notModified && notModified.body.readableBytes == 0)
            _ = try await Self.publish(client, server, version: "1.1")
            let changed = try await client.execute(uri: page, method: .get, headers: conditional)
            #expect(changed.status == .ok && changed.headers[.eTag] != tag)

            let sha = PyPIHTTPTests.sha256(wheel)
            let file = "/api/v4/projects/acme%2Flib/packages/pypi/files/\(sha)/demo-1.0-py3-none-any.whl"
            var ranged = rep
            ranged[.range] = "bytes=0-9"
            let partial = try await client.execute(uri: file, method: .get, headers: ranged)
            #expect(partial.status == .partialContent)
            #expect(partial.headers[.contentRange] == "bytes 0-9/\(wheel.count)")
            #expect(Array(partial.body.readableBytesView) == Array(wheel[0...9]))
            ranged[.range] = "bytes=\(wheel.count + 10)-"
            let unsatisfiable = try await client.execute(uri: file, method: .get, headers: ranged)
            #expect(unsatisfiable.status == .rangeNotSatisfiable && unsatisfiable.headers[.contentRange] == "bytes */\(wheel.count)")
            var fileConditional = rep
            fileConditional[.ifNoneMatch] = "\"\(sha)\""
            #expect(try await client.execute(uri: file, method: .get, headers: fileConditional).status == .notModified)
            let whole = try await client.execute(uri: file, method: .get, headers: rep)
            #expect(whole.headers[.eTag] == "\"\(sha)\"" && whole.headers[.lastModified]?.hasSuffix(" GMT") == true)
            #expect(whole.headers[.cacheControl] == "private, max-age=31536000, immutable")

            // A public project's answers may be kept by shared caches.
            let open = UploadForm(
                fileName: "demo-2.0-py3-none-any.whl",
                content: try TestDistributions.wheel(name: "demo", version: "2.0"),
                name: "demo",
                version: "2.0"
            )
            #expect(try await client.upload(open, to: "acme%2Fopen", auth: server.basic("dev")).status == .created)
            let publicPage = try await client.execute(uri: "/api/v4/projects/acme%2Fopen/packages/pypi/simple/demo", method: .get)
            #expect(publicPage.headers[.cacheControl]?.hasPrefix("public") == true)
        }
    }

    @Test func yankingFollowsPEP592AndGitLabRoles() async throws {
        try await TestServer.run { server, client in
            _ = try await Self.publish(client, server, version: "1.0")
            _ = try await Self.publish(client, server, version: "1.1")
            func yank(_ body: String, as token: HTTPFields, undo: Bool = false) async throws -> TestResponse {
                var headers = token
                headers[.contentType] = "application/json"
                return try await client.execute(
                    uri: "/api/v4/projects/acme%2Flib/packages/pypi/\(undo ? "unyank" : "yank")",
                    method: .put,
                    headers: headers,
                    body: ByteBuffer(string: body)
                )
            }
            let release = #"{"name": "DEMO", "version": "1.1.0", "reason": "broken \"build\""}"#
            #expect(try await yank(release, as: server.basic("dev")).status == .forbidden)
            #expect(try await yank(release, as: server.basic("deploy-write")).status == .forbidden)
            #expect(try await yank(release, as: [:]).status == .unauthorized)
            #expect(try await yank(release, as: server.basic("outsider")).status == .notFound)
            #expect(try await yank(#"{"name": "demo", "version": "9.9"}"#, as: server.basic("maintainer")).status == .notFound)
            #expect(try await yank("not json", as: server.basic("maintainer")).status == .badRequest)

            let yanked = try await yank(release, as: server.basic("maintainer"))
            #expect(yanked.status == .ok)
            #expect((try Self.json(yanked)["files"] as? [String]) == ["demo-1.1-py3-none-any.whl"])

            var accept = server.basic("rep")
            accept[.accept] = Self.pipAccept
            let page = "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo"
            let files = try #require(try Self.json(try await client.execute(uri: page, method: .get, headers: accept))["files"] as? [[String: Any]])
            #expect(files.map { $0["yanked"] as? String } == [nil, #"broken "build""#])
            #expect(files.first?["yanked"] as? Bool == false)
            let html = String(buffer: try await client.execute(uri: page, method: .get, headers: server.basic("rep")).body)
            #expect(html.contains(#"data-yanked="broken &quot;build&quot;">demo-1.1-py3-none-any.whl</a>"#))
            #expect(!html.contains(#"data-yanked="" "#))

            #expect(try await yank(#"{"name": "demo", "version": "1.1"}"#, as: server.basic("maintainer"), undo: true).status == .ok)
            let after = String(buffer: try await client.execute(uri: page, method: .get, headers: server.basic("rep")).body)
            #expect(!after.contains("data-yanked"))
        }
    }
}

/// Cached pages and decisions: never a stale page, whoever made the change.
@Suite struct CachingHTTPTests {
    @Test func pagesFollowChangesMadeByAnotherProcess() async throws {
        try await TestServer.run { server, client in
            _ = try await IndexStandardsHTTPTests.publish(client, server, version: "1.0")
            let page = "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo"
            let before = String(buffer: try await client.execute(uri: page, method: .get, headers: server.basic("rep")).body)
            #expect(!before.contains("data-yanked"))
            // A yank through other services (as the CLI makes) must show on the next request.
            _ = try await server.elsewhere.maintenance.setYank(
                Yank(reason: "gone"),
                project: server.projects["acme/lib"]!,
                name: "demo",
                version: "1.0",
                fileName: nil,
                author: .commandLine()
            )
            // Another process's change shows once this process's view of the versions is renewed.
            try await Task.sleep(for: CacheLifetimes.packagesVersions + .milliseconds(50))
            let after = String(buffer: try await client.execute(uri: page, method: .get, headers: server.basic("rep")).body)
            #expect(after.contains(#"data-yanked="gone""#))
            let index = "/api/v4/groups/acme/-/packages/pypi/simple/demo"
            #expect(
                String(buffer: try await client.execute(uri: index, method: .get, headers: server.basic("dev")).body).contains(#"data-yanked="gone""#)
            )
        }
    }
}

@Suite struct CacheUnitTests {
    @Test func versionedCacheServesOnlyMatchingVersions() {
        let cache = VersionedCache<String>(capacity: 2)
        cache.store("page", for: "k", versions: [1: 3])
        #expect(cache.value(for: "k", versions: [1: 3]) == "page")
        #expect(cache.value(for: "k", versions: [1: 4]) == nil)
        #expect(cache.value(for: "k", versions: [1: 3, 2: 0]) == nil)
        cache.store("a", for: "a", versions: [1: 3])
        cache.store("b", for: "b", versions: [1: 3])  // over capacity: starts again
        #expect(cache.value(for: "k", versions: [1: 3]) == nil)
        #expect(cache.value(for: "b", versions: [1: 3]) == "b")
    }
}
