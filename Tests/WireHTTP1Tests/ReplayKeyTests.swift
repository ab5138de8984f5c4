import NIOHTTP1
import Testing

@testable import WireHTTP1

@Suite struct ReplayKeyTests {
    /// GitLab's, as the registry names them.
    static let credentialHeaderNames = ["PRIVATE-TOKEN", "Deploy-Token", "Authorization"]
    static let credentialHeaders = CredentialHeaders(credentialHeaderNames)

    static func key(_ head: HTTPRequestHead) -> ReplayCache.Key? {
        ReplayCache.Key(head, credentialHeaders: self.credentialHeaders)
    }

    static func field(_ name: String) -> ReplayCache.KeyField? {
        ReplayCache.KeyField(name, credentialHeaders: self.credentialHeaders)
    }

    private func request(
        _ method: HTTPMethod = .GET,
        path: String = "/api/v4/projects/1/packages/pypi/simple/a/",
        version: HTTPVersion = .http1_1,
        _ headers: [(String, String)] = []
    ) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: path, headers: HTTPHeaders([("Host", "registry.example")] + headers))
    }

    @Test func onlyBodilessHTTP11GetsThatKeepTheConnectionAreReplayable() {
        #expect(Self.key(self.request()) != nil)
        #expect(Self.key(self.request(.HEAD)) == nil)
        #expect(Self.key(self.request(.POST)) == nil)
        #expect(Self.key(self.request(version: .http1_0)) == nil)
        #expect(Self.key(self.request(.GET, [("Content-Length", "3")])) == nil)
        #expect(Self.key(self.request(.GET, [("transfer-encoding", "chunked")])) == nil)
        #expect(Self.key(self.request(.GET, [("Connection", "Close")])) == nil)
        #expect(Self.key(self.request(.GET, [("connection", "keep-alive, close")])) == nil)
        #expect(Self.key(self.request(.GET, [("Connection", "keep-alive")])) != nil)
    }

    @Test func everythingTheAnswerDependsOnIsInTheKey() {
        let plain = Self.key(self.request())
        for header in [
            ("Accept", "application/vnd.pypi.simple.v1+json"), ("If-None-Match", "\"x\""), ("range", "bytes=0-9"),
            ("IF-RANGE", "\"x\""), ("Authorization", "Bearer a"), ("PRIVATE-TOKEN", "a"), ("Deploy-Token", "a"),
        ] {
            #expect(Self.key(self.request(.GET, [header])) != plain, "\(header)")
        }
        #expect(Self.key(self.request(path: "/api/v4/projects/2/packages/pypi/simple/a/")) != plain)
        #expect(Self.key(self.request(path: "/api/v4/projects/1/packages/pypi/simple/a/?format=json")) != plain)
        #expect(
            Self.key(
                HTTPRequestHead(
                    version: .http1_1,
                    method: .GET,
                    uri: "/api/v4/projects/1/packages/pypi/simple/a/",
                    headers: ["Host": "other.example"]
                )
            ) != plain
        )
        // An irrelevant header does not split answers, and header names are matched in any case.
        #expect(Self.key(self.request(.GET, [("User-Agent", "pip/26.3")])) == plain)
        #expect(Self.key(self.request(.GET, [("accept", "text/html")])) == Self.key(self.request(.GET, [("ACCEPT", "text/html")])))
    }

    @Test func aHeaderTheKeyHoldsMayNotComeTwice() {
        // Hummingbird would see both values joined; the key would see one. Such a request goes the normal way.
        for name in ["Accept", "If-None-Match", "Range", "If-Range", "Host"] {
            #expect(Self.key(self.request(.GET, [(name, "a"), (name, "b")])) == nil, "\(name)")
        }
    }

    @Test func credentialsAreKeptOnlyAsADigestAndTellCallersApart() throws {
        let alice = try #require(Self.key(self.request(.GET, [("Authorization", "Basic YWxpY2U6c2VjcmV0LWE=")])))
        let bob = try #require(Self.key(self.request(.GET, [("Authorization", "Basic Ym9iOnNlY3JldC1i")])))
        #expect(alice != bob)
        #expect(alice == Self.key(self.request(.GET, [("authorization", "Basic YWxpY2U6c2VjcmV0LWE=")])))
        #expect(alice.credentials != nil)
        // The same value in another header is another credential.
        #expect(Self.key(self.request(.GET, [("PRIVATE-TOKEN", "x")])) != Self.key(self.request(.GET, [("Deploy-Token", "x")])))
        // A second credential header changes the digest: it is never ignored.
        #expect(
            Self.key(self.request(.GET, [("PRIVATE-TOKEN", "x"), ("PRIVATE-TOKEN", "y")])) != Self.key(self.request(.GET, [("PRIVATE-TOKEN", "x")]))
        )
    }

    @Test func everyCredentialHeaderIsRecognised() {
        for name in Self.credentialHeaderNames {
            #expect(Self.field(name) != nil, "\(name)")
            #expect(Self.field(name.uppercased()) == Self.field(name))
        }
        #expect(Self.field("private-tokens") == nil)
        #expect(Self.field("hosT") == .host)
        #expect(Self.field("hos") == nil)
    }

    @Test func replaysAreLoggedByPathAloneAsTheNormalPathLogsThem() {
        #expect(ReplayHandler.loggedPath("/api/v4/projects/1/packages/pypi/simple/a/") == "/api/v4/projects/1/packages/pypi/simple/a/")
        #expect(ReplayHandler.loggedPath("/simple/a/?private_token=secret") == "/simple/a/")
        #expect(ReplayHandler.loggedPath("http://user:secret@registry.example/simple/a/?x=1") == "/simple/a/")
        #expect(ReplayHandler.loggedPath("http://user:secret@registry.example") == "")
    }
}
