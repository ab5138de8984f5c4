import Hummingbird
import Testing

@testable import RegistryServer

@Suite struct WebRouteTests {
    private func route(_ path: String) -> WebRoute? { self.route(.get, path) }

    private func route(_ method: HTTPRequest.Method, _ path: String) -> WebRoute? {
        WebRoute(method: method, segments: path.split(separator: "/", omittingEmptySubsequences: true))
    }

    @Test func findsGitLabsPagePaths() {
        #expect(route("/") == .home)
        #expect(route("/-/search") == .search)
        #expect(route("/users/sign_in") == .signIn)
        #expect(route(.post, "/users/sign_in") == .signIn)
        #expect(route(.post, "/users/sign_out") == .signOut)
        #expect(route("/-/user_settings/personal_access_tokens") == .tokens)
        #expect(route(.post, "/-/user_settings/personal_access_tokens/12/revoke") == .revokeToken(id: 12))
        #expect(route("/acme/tools") == .namespace(fullPath: "acme/tools"))
        #expect(route("/acme/tools/-/packages/my-pkg") == .package(project: "acme/tools", name: "my-pkg", version: nil))
        #expect(route("/acme/tools/-/packages/my-pkg/1.0%2Blocal") == .package(project: "acme/tools", name: "my-pkg", version: "1.0+local"))
        #expect(route(.post, "/a/b/-/packages/p/1.0/yank") == .packageAction(project: "a/b", name: "p", version: "1.0", action: .yank))
        #expect(
            route("/a/b/-/packages/p/1.0/files/7/delete") == .packageAction(project: "a/b", name: "p", version: "1.0", action: .deleteFile(id: 7))
        )
    }

    @Test func refusesWhatIsNoPage() {
        #expect(route("/api/v4/anything") == nil)
        #expect(route("/users/someone") == nil)
        #expect(route("/-/unknown") == nil)
        #expect(route("/-/packages/p") == nil)
        #expect(route("/a/-/other/p") == nil)
        #expect(route("/a/-/packages/p/1.0/files/x/delete") == nil)
        #expect(route("/a%2Fb") == nil)
        #expect(route("/a/%zz") == nil)
        // Reads are GET or HEAD; changes are POST.
        #expect(route(.post, "/") == nil)
        #expect(route(.delete, "/a/b") == nil)
        #expect(route(.get, "/users/sign_out") == nil)
        #expect(route(.get, "/-/csp-report") == nil)
    }

    @Test func redirectsAfterSignInOnlyToThisServer() {
        #expect(WebEndpoints.localRedirect("/acme/tools") == "/acme/tools")
        #expect(WebEndpoints.localRedirect("/-/search?q=x") == "/-/search?q=x")
        for hostile in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "", "/a\nb", "/a\\b"] {
            #expect(WebEndpoints.localRedirect(hostile) == nil, "\(hostile)")
        }
        #expect(WebEndpoints.localRedirect(nil) == nil)
    }

    @Test func decodesForms() throws {
        let form = try FormBody("login=al+ice&password=p%26ss%3Dword&scopes=api&scopes=read_api&empty=")
        #expect(form["login"] == "al ice")
        #expect(form["password"] == "p&ss=word")
        #expect(form.all("scopes") == ["api", "read_api"])
        #expect(form["empty"] == "")
        #expect(form["missing"] == nil)
        #expect(throws: (any Error).self) { try FormBody("a=%zz") }
    }

    @Test func formTokensMatchOnlyExactly() {
        var visitor = WebVisitor(formToken: "0123456789abcdef0123")
        #expect(visitor.accepts(formToken: "0123456789abcdef0123"))
        #expect(!visitor.accepts(formToken: "0123456789abcdef0124"))
        #expect(!visitor.accepts(formToken: "0123456789abcdef012"))
        #expect(!visitor.accepts(formToken: nil))
        // A token minted for this very answer was never sent with a form: nothing matches it.
        visitor = WebVisitor(formToken: "").withFormToken()
        #expect(!visitor.accepts(formToken: visitor.formToken))
        #expect(!WebVisitor(formToken: "").accepts(formToken: ""))
    }
}
