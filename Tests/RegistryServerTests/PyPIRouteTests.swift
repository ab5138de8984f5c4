import Hummingbird
import HummingbirdTesting
import Testing

@testable import Registry
@testable import RegistryServer

@Suite struct PyPIRouteTests {
    @Test func parsesEveryRoute() throws {
        let lib = PathReference(value: "acme/lib", raw: "acme%2Flib")
        let one = PathReference(value: "1", raw: "1")
        #expect(PyPIRoute(path: "/api/v4/projects/acme%2Flib/packages/pypi") == PyPIRoute(scope: .project(lib), endpoint: .upload))
        #expect(PyPIRoute(path: "/api/v4/projects/acme%2Flib/packages/pypi/") == PyPIRoute(scope: .project(lib), endpoint: .upload))
        #expect(PyPIRoute(path: "/api/v4/projects/1/packages/pypi/simple") == PyPIRoute(scope: .project(one), endpoint: .read(.index)))
        #expect(
            PyPIRoute(path: "/api/v4/projects/1/packages/pypi/simple/Foo.Bar/")
                == PyPIRoute(scope: .project(one), endpoint: .read(.package(name: "Foo.Bar")))
        )
        #expect(
            PyPIRoute(path: "/api/v4/projects/1/packages/pypi/files/abc/x-1.0.tar.gz")
                == PyPIRoute(scope: .project(one), endpoint: .read(.file(sha256: "abc", fileName: "x-1.0.tar.gz")))
        )
        #expect(
            PyPIRoute(path: "/api/v4/groups/acme/-/packages/pypi/simple/")
                == PyPIRoute(scope: .group(.init(value: "acme", raw: "acme")), endpoint: .read(.index))
        )
        #expect(
            PyPIRoute(path: "/api/v4/groups/2/-/packages/pypi/simple/x")
                == PyPIRoute(scope: .group(.init(value: "2", raw: "2")), endpoint: .read(.package(name: "x")))
        )
        #expect(
            PyPIRoute(path: "/api/v4/groups/2/-/packages/pypi/files/s/f")
                == PyPIRoute(scope: .group(.init(value: "2", raw: "2")), endpoint: .read(.file(sha256: "s", fileName: "f")))
        )
        let router = APIRouter(rest: RESTRouter())
        guard case .health = try router.route(.get, "/-/health/") else {
            Issue.record("not the health route")
            return
        }
    }

    @Test(arguments: [
        "/", "/api/v4/projects/1", "/api/v4/projects/1/packages/npm", "/api/v4/groups/1/packages/pypi/simple",
        "/api/v4/projects/1/packages/pypi/simple/a/b", "/api/v4/projects/%zz/packages/pypi/simple", "/api/v3/projects/1/packages/pypi",
        "/api/v4/projects/%FF/packages/pypi/simple",
    ])
    func refusesOtherPaths(_ path: String) {
        #expect(PyPIRoute(path: Substring(path)) == nil)
    }

    @Test func readsEveryCredentialStyle() throws {
        #expect(try CredentialExtraction.credential(from: [.authorization: "Basic X190b2tlbl9fOnNlY3JldA=="]) == .anyToken("secret"))
        #expect(try CredentialExtraction.credential(from: [.authorization: "Basic OnNlY3JldDpwYXJ0"]) == .anyToken("secret:part"))
        #expect(try CredentialExtraction.credential(from: [.authorization: "Bearer abc"]) == .anyToken("abc"))
        #expect(try CredentialExtraction.credential(from: [.init("PRIVATE-TOKEN")!: "abc"]) == .anyToken("abc"))
        #expect(try CredentialExtraction.credential(from: [.init("Deploy-Token")!: "abc"]) == .deployToken("abc"))
        #expect(try CredentialExtraction.credential(from: [:]) == nil)
        #expect(throws: CredentialExtraction.Failure.self) { try CredentialExtraction.credential(from: [.authorization: "Basic !!!"]) }
        #expect(throws: CredentialExtraction.Failure.self) { try CredentialExtraction.credential(from: [.authorization: "Basic bm9jb2xvbg=="]) }
        #expect(throws: CredentialExtraction.Failure.self) { try CredentialExtraction.credential(from: [.authorization: "Digest x"]) }
    }

    @Test func readsMultipartBoundary() {
        #expect(MultipartContentType.boundary(of: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartContentType.boundary(of: "Multipart/Form-Data;boundary=\"a b\"; charset=utf-8") == "a b")
        #expect(MultipartContentType.boundary(of: "application/json") == nil)
        #expect(MultipartContentType.boundary(of: "multipart/form-data") == nil)
    }

    @Test func escapesHTML() {
        #expect(HTML.escape(#"<a href="x">&'"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }
}
