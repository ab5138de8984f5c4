import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Registry
@testable import RegistryServer

/// The PyPI routes over real HTTP against a live server.
@Suite struct PyPIHTTPTests {
    static let wheel = try! TestDistributions.wheel(name: "Foo.Bar", version: "1.0")

    static func sha256(_ bytes: [UInt8]) -> String {
        var digester = FileDigester()
        digester.update(bytes)
        return digester.finalize().sha256
    }

    @Test func publishListDownloadRoundTrip() async throws {
        try await TestServer.run { server, client in
            let form = UploadForm(
                fileName: "Foo_Bar-1.0-py3-none-any.whl",
                content: Self.wheel,
                name: "Foo.Bar",
                version: "1.0",
                extra: [("sha256_digest", Self.sha256(Self.wheel)), ("requires_python", ">=3.8"), ("classifiers", "A"), ("classifiers", "B")]
            )
            let created = try await client.upload(form, to: "acme%2Flib", auth: server.basic("dev"))
            #expect(created.status == .created)
            #expect(String(buffer: created.body).contains("201 Created"))

            let index = try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple/", method: .get, headers: server.basic("rep"))
            #expect(index.status == .ok)
            let indexHTML = String(buffer: index.body)
            #expect(
                indexHTML.contains(
                    #"<a href="http://localhost/api/v4/projects/acme%2Flib/packages/pypi/simple/foo-bar" data-requires-python="&gt;=3.8">Foo.Bar</a>"#
                )
                    || indexHTML.contains("/api/v4/projects/acme%2Flib/packages/pypi/simple/foo-bar\" data-requires-python=\"&gt;=3.8\">Foo.Bar</a>")
            )

            let id = server.projects["acme/lib"]!.id
            for asked in ["foo-bar", "FOO_BAR", "foo.bar", "Foo__Bar"] {
                let page = try await client.execute(
                    uri: "/api/v4/projects/\(id)/packages/pypi/simple/\(asked)",
                    method: .get,
                    headers: server.basic("rep")
                )
                #expect(page.status == .ok, "asked as \(asked)")
                let html = String(buffer: page.body)
                let sha = Self.sha256(Self.wheel)
                #expect(
                    html.contains(
                        "/api/v4/projects/\(id)/packages/pypi/files/\(sha)/Foo_Bar-1.0-py3-none-any.whl#sha256=\(sha)\" data-requires-python=\"&gt;=3.8\" data-dist-info-metadata=\"sha256="
                    )
                )
                #expect(html.contains("data-core-metadata=\"sha256=") && html.contains(">Foo_Bar-1.0-py3-none-any.whl</a>"))
            }

            let sha = Self.sha256(Self.wheel)
            let download = try await client.execute(
                uri: "/api/v4/projects/\(id)/packages/pypi/files/\(sha)/Foo_Bar-1.0-py3-none-any.whl",
                method: .get,
                headers: server.basic("rep")
            )
            #expect(download.status == .ok)
            #expect(Array(download.body.readableBytesView) == Self.wheel)
            #expect(download.headers[.contentLength] == String(Self.wheel.count))

            let head = try await client.execute(
                uri: "/api/v4/projects/\(id)/packages/pypi/files/\(sha)/Foo_Bar-1.0-py3-none-any.whl",
                method: .head,
                headers: server.basic("rep")
            )
            #expect(head.status == .ok && head.body.readableBytes == 0)

            let wrongDigest = try await client.execute(
                uri: "/api/v4/projects/\(id)/packages/pypi/files/\(String(repeating: "0", count: 64))/Foo_Bar-1.0-py3-none-any.whl",
                method: .get,
                headers: server.basic("rep")
            )
            #expect(wrongDigest.status == .notFound)

            // The group sees its project's package, subgroups included, and serves the file too.
            let group = try await client.execute(uri: "/api/v4/groups/acme/-/packages/pypi/simple", method: .get, headers: server.basic("dev"))
            #expect(String(buffer: group.body).contains("/api/v4/groups/acme/-/packages/pypi/simple/foo-bar"))
            let groupFile = try await client.execute(
                uri: "/api/v4/groups/acme/-/packages/pypi/files/\(sha)/Foo_Bar-1.0-py3-none-any.whl",
                method: .get,
                headers: server.basic("dev")
            )
            #expect(groupFile.status == .ok && Array(groupFile.body.readableBytesView) == Self.wheel)
        }
    }

    @Test func statusCodesFollowGitLab() async throws {
        try await TestServer.run { server, client in
            let form = UploadForm(fileName: "demo-1.0.tar.gz", content: [1, 2, 3], name: "demo", version: "1.0")
            #expect(try await client.upload(form, to: "acme%2Flib", auth: server.basic("dev")).status == .created)
            let page = "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo"

            func status(_ uri: String, _ headers: HTTPFields) async throws -> HTTPResponse.Status {
                try await client.execute(uri: uri, method: .get, headers: headers).status
            }
            let anonymous = try await client.execute(uri: page, method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            // Anonymous callers cannot tell a private project from a missing one.
            #expect(try await status("/api/v4/projects/999/packages/pypi/simple/demo", [:]) == .unauthorized)
            #expect(try await status(page, [.authorization: "Basic X190b2tlbl9fOndyb25n"]) == .unauthorized)
            #expect(try await status(page, server.basic("dev-expired")) == .unauthorized)
            #expect(try await status(page, server.basic("outsider")) == .notFound)
            #expect(try await status("/api/v4/projects/999/packages/pypi/simple/demo", server.basic("dev")) == .notFound)
            #expect(try await status(page, server.basic("guest")) == .forbidden)
            #expect(try await status(page, server.basic("rep")) == .ok)
            #expect(try await status(page, [.init("PRIVATE-TOKEN")!: server.tokens["rep"]!]) == .ok)
            #expect(try await status(page, [.authorization: "Bearer \(server.tokens["rep"]!)"]) == .ok)
            #expect(try await status(page, [.init("Deploy-Token")!: server.tokens["deploy-read"]!]) == .ok)
            #expect(try await status(page, server.basic("deploy-read")) == .ok)
            #expect(try await status("/api/v4/projects/acme%2Fsub%2Fdeep/packages/pypi/simple", server.basic("deploy-read")) == .notFound)
            #expect(try await status("/api/v4/projects/acme%2Fopen/packages/pypi/simple", [:]) == .ok)

            let another = UploadForm(fileName: "demo-1.1.tar.gz", content: [4], name: "demo", version: "1.1")
            #expect(try await client.upload(another, to: "acme%2Flib", auth: server.basic("rep")).status == .forbidden)
            #expect(try await client.upload(another, to: "acme%2Flib", auth: server.basic("dev-read")).status == .forbidden)
            #expect(try await client.upload(another, to: "acme%2Flib", auth: server.basic("deploy-read")).status == .forbidden)
            #expect(try await client.upload(another, to: "acme%2Flib", auth: server.basic("outsider")).status == .notFound)
            #expect(try await client.upload(another, to: "acme%2Flib", auth: [:]).status == .unauthorized)
            #expect(try await client.upload(another, to: "acme%2Fsub%2Fdeep", auth: server.basic("deploy-write")).status == .created)

            // A read route refuses other methods.
            #expect(try await client.execute(uri: page, method: .delete, headers: server.basic("dev")).status == .methodNotAllowed)
            #expect(try await client.execute(uri: "/api/v4/nothing", method: .get).status == .notFound)
        }
    }

    @Test func groupPagesShowOnlyReadableProjects() async throws {
        try await TestServer.run { server, client in
            for (project, name) in [("acme%2Flib", "inlib"), ("acme%2Fsub%2Fdeep", "indeep"), ("acme%2Fopen", "inopen")] {
                let form = UploadForm(fileName: "\(name)-1.0.tar.gz", content: Array(name.utf8), name: name, version: "1.0")
                let status = try await client.upload(form, to: project, auth: server.basic("dev")).status
                #expect(status == .created)
            }
            func names(_ headers: HTTPFields) async throws -> (HTTPResponse.Status, [String]) {
                let response = try await client.execute(uri: "/api/v4/groups/acme/-/packages/pypi/simple", method: .get, headers: headers)
                let html = String(buffer: response.body)
                return (response.status, ["inlib", "indeep", "inopen"].filter { html.contains(">\($0)</a>") })
            }
            do {
                let (status, listed) = try await names(server.basic("dev"))
                #expect(status == .ok && listed == ["inlib", "indeep", "inopen"])
            }
            do {
                let (status, listed) = try await names(server.basic("rep"))
                #expect(status == .ok && listed == ["inlib", "inopen"])
            }
            do {
                let (status, listed) = try await names(server.basic("outsider"))
                #expect(status == .ok && listed == ["inopen"])
            }
            do {
                let (status, listed) = try await names([:])
                #expect(status == .ok && listed == ["inopen"])
            }

            // A group file download checks the project's permission too.
            let sha = PyPIHTTPTests.sha256(Array("indeep".utf8))
            let file = "/api/v4/groups/acme/-/packages/pypi/files/\(sha)/indeep-1.0.tar.gz"
            #expect(try await client.execute(uri: file, method: .get, headers: server.basic("rep")).status == .notFound)
            #expect(try await client.execute(uri: file, method: .get, headers: server.basic("dev")).status == .ok)
            #expect(
                try await client.execute(uri: "/api/v4/groups/acme%2Fsub/-/packages/pypi/simple/indeep", method: .get, headers: server.basic("dev"))
                    .status == .ok
            )
        }
    }

    @Test func uploadChecksRefuseAndKeepNothing() async throws {
        try await TestServer.run(maxUploadSize: 1024) { server, client in
            let dev = server.basic("dev")
            func refused(_ form: UploadForm) async throws -> TestResponse {
                try await client.upload(form, to: "acme%2Flib", auth: dev)
            }
            let tampered = UploadForm(
                fileName: "demo-1.0.tar.gz",
                content: [1, 2, 3],
                name: "demo",
                version: "1.0",
                extra: [("sha256_digest", String(repeating: "a", count: 64))]
            )
            let response = try await refused(tampered)
            #expect(response.status == .badRequest)
            #expect(String(buffer: response.body).contains("sha256_digest does not match"))
            let wrongBlake = UploadForm(
                fileName: "demo-1.0.tar.gz",
                content: [1, 2, 3],
                name: "demo",
                version: "1.0",
                extra: [("blake2_256_digest", String(repeating: "b", count: 64))]
            )
            #expect(try await refused(wrongBlake).status == .badRequest)
            for hostile in ["../demo-1.0.tar.gz", ".demo-1.0.tar.gz", "demo-1.0.tar.gz\u{7}", "a\\\\demo-1.0.tar.gz"] {
                #expect(
                    try await refused(UploadForm(fileName: hostile, content: [1], name: "demo", version: "1.0")).status == .badRequest,
                    "\(hostile)"
                )
            }
            #expect(try await refused(UploadForm(fileName: "demo-1.0.tar.gz", content: [1], name: "other", version: "1.0")).status == .badRequest)
            let tooLarge = try await refused(
                UploadForm(fileName: "demo-1.0.tar.gz", content: Array(repeating: 1, count: 1025), name: "demo", version: "1.0")
            )
            #expect(tooLarge.status == .contentTooLarge)
            let tooLargeLine = try await RawHTTP.statusLine(
                port: client.port!,
                request: RawHTTP.uploadRequest(
                    UploadForm(fileName: "demo-1.0.tar.gz", content: Array(repeating: 1, count: 1025), name: "demo", version: "1.0"),
                    project: "acme%2Flib",
                    authorization: dev[.authorization]!
                )
            )
            #expect(tooLargeLine == "HTTP/1.1 413 File is too large")
            let notMultipart = try await client.execute(
                uri: "/api/v4/projects/acme%2Flib/packages/pypi",
                method: .post,
                headers: dev,
                body: ByteBuffer(string: "x")
            )
            #expect(notMultipart.status == .badRequest)

            let page = try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo", method: .get, headers: dev)
            #expect(page.status == .notFound)
        }
    }

    @Test func duplicatesFollowWarehouseAndTwine() async throws {
        try await TestServer.run { server, client in
            let dev = server.basic("dev")
            let original = UploadForm(fileName: "demo-1.0.tar.gz", content: [1, 2, 3], name: "demo", version: "1.0")
            #expect(try await client.upload(original, to: "acme%2Flib", auth: dev).status == .created)
            #expect(try await client.upload(original, to: "acme%2Flib", auth: dev).status == .ok)
            let changed = UploadForm(fileName: "demo-1.0.tar.gz", content: [9, 9], name: "demo", version: "1.0")
            let refused = try await client.upload(changed, to: "acme%2Flib", auth: dev)
            #expect(refused.status == .badRequest)
            let statusLine = try await RawHTTP.statusLine(
                port: client.port!,
                request: RawHTTP.uploadRequest(changed, project: "acme%2Flib", authorization: dev[.authorization]!)
            )
            #expect(statusLine == "HTTP/1.1 400 File name has already been taken")
            #expect(String(buffer: refused.body).contains("File name has already been taken"))
            let wheel = UploadForm(
                fileName: "demo-1.0.0-py3-none-any.whl",
                content: try TestDistributions.wheel(name: "demo", version: "1.0.0"),
                name: "demo",
                version: "1.0.0"
            )
            #expect(try await client.upload(wheel, to: "acme%2Flib", auth: dev).status == .created)
            let page = String(
                buffer: try await client.execute(uri: "/api/v4/projects/acme%2Flib/packages/pypi/simple/demo", method: .get, headers: dev).body
            )
            #expect(page.contains(">demo-1.0.tar.gz</a>") && page.contains(">demo-1.0.0-py3-none-any.whl</a>"))
        }
    }
}
