import NIOHTTP1
import Testing

@testable import RegistryServer

@Suite struct ReplayKeyTests {
    private func request(
        _ method: HTTPMethod = .GET, path: String = "/api/v4/projects/1/packages/pypi/simple/a/", version: HTTPVersion = .http1_1,
        _ headers: [(String, String)] = []
    ) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: path, headers: HTTPHeaders([("Host", "registry.example")] + headers))
    }

    @Test func onlyBodilessHTTP11GetsThatKeepTheConnectionAreReplayable() {
        #expect(ReplayCache.Key(self.request()) != nil)
        #expect(ReplayCache.Key(self.request(.HEAD)) == nil)
        #expect(ReplayCache.Key(self.request(.POST)) == nil)
        #expect(ReplayCache.Key(self.request(version: .http1_0)) == nil)
        #expect(ReplayCache.Key(self.request(.GET, [("Content-Length", "3")])) == nil)
        #expect(ReplayCache.Key(self.request(.GET, [("transfer-encoding", "chunked")])) == nil)
        #expect(ReplayCache.Key(self.request(.GET, [("Connection", "Close")])) == nil)
        #expect(ReplayCache.Key(self.request(.GET, [("connection", "keep-alive, close")])) == nil)
        #expect(ReplayCache.Key(self.request(.GET, [("Connection", "keep-alive")])) != nil)
    }

    @Test func everythingTheAnswerDependsOnIsInTheKey() {
        let plain = ReplayCache.Key(self.request())
        for header in [
            ("Accept", "application/vnd.pypi.simple.v1+json"), ("If-None-Match", "\"x\""), ("range", "bytes=0-9"),
            ("IF-RANGE", "\"x\""), ("Authorization", "Bearer a"), ("PRIVATE-TOKEN", "a"), ("Deploy-Token", "a"),
        ] {
            #expect(ReplayCache.Key(self.request(.GET, [header])) != plain, "\(header)")
        }
        #expect(ReplayCache.Key(self.request(path: "/api/v4/projects/2/packages/pypi/simple/a/")) != plain)
        #expect(ReplayCache.Key(self.request(path: "/api/v4/projects/1/packages/pypi/simple/a/?format=json")) != plain)
        #expect(ReplayCache.Key(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/v4/projects/1/packages/pypi/simple/a/", headers: ["Host": "other.example"])) != plain)
        // An irrelevant header does not split answers, and header names are matched in any case.
        #expect(ReplayCache.Key(self.request(.GET, [("User-Agent", "pip/26.3")])) == plain)
        #expect(ReplayCache.Key(self.request(.GET, [("accept", "text/html")])) == ReplayCache.Key(self.request(.GET, [("ACCEPT", "text/html")])))
    }

    @Test func aHeaderTheKeyHoldsMayNotComeTwice() {
        // Hummingbird would see both values joined; the key would see one. Such a request goes the normal way.
        for name in ["Accept", "If-None-Match", "Range", "If-Range", "Host"] {
            #expect(ReplayCache.Key(self.request(.GET, [(name, "a"), (name, "b")])) == nil, "\(name)")
        }
    }

    @Test func credentialsAreKeptOnlyAsADigestAndTellCallersApart() throws {
        let alice = try #require(ReplayCache.Key(self.request(.GET, [("Authorization", "Basic YWxpY2U6c2VjcmV0LWE=")])))
        let bob = try #require(ReplayCache.Key(self.request(.GET, [("Authorization", "Basic Ym9iOnNlY3JldC1i")])))
        #expect(alice != bob)
        #expect(alice == ReplayCache.Key(self.request(.GET, [("authorization", "Basic YWxpY2U6c2VjcmV0LWE=")])))
        #expect(alice.credentials != nil)
        // The same value in another header is another credential.
        #expect(ReplayCache.Key(self.request(.GET, [("PRIVATE-TOKEN", "x")])) != ReplayCache.Key(self.request(.GET, [("Deploy-Token", "x")])))
        // A second credential header changes the digest: it is never ignored.
        #expect(ReplayCache.Key(self.request(.GET, [("PRIVATE-TOKEN", "x"), ("PRIVATE-TOKEN", "y")])) != ReplayCache.Key(self.request(.GET, [("PRIVATE-TOKEN", "x")])))
    }

    @Test func everyCredentialHeaderIsRecognised() {
        for name in CredentialExtraction.headerNames {
            #expect(ReplayCache.KeyField(name.canonicalName) != nil, "\(name)")
            #expect(ReplayCache.KeyField(name.canonicalName.uppercased()) == ReplayCache.KeyField(name.canonicalName))
        }
        #expect(ReplayCache.KeyField("private-tokens") == nil)
        #expect(ReplayCache.KeyField("hosT") == .host)
        #expect(ReplayCache.KeyField("hos") == nil)
    }

    @Test func replaysAreLoggedByPathAloneAsTheNormalPathLogsThem() {
        #expect(ReplayHandler.loggedPath("/api/v4/projects/1/packages/pypi/simple/a/") == "/api/v4/projects/1/packages/pypi/simple/a/")
        #expect(ReplayHandler.loggedPath("/simple/a/?private_token=secret") == "/simple/a/")
        #expect(ReplayHandler.loggedPath("http://user:secret@registry.example/simple/a/?x=1") == "/simple/a/")
        #expect(ReplayHandler.loggedPath("http://user:secret@registry.example") == "")
    }

    @Test func markerRoundTripsInProjectOrder() throws {
        let marker = ReplayCache.Marker(projects: [7, 3, 12], versions: [3: 1, 7: 40, 12: 0], caller: "user:alice", generation: 4)
        let value = try #require(marker.value)
        #expect(value == "4;7=40,3=1,12=0;user:alice")
        #expect(ReplayCache.Marker(value: value) == marker)
        // A group with no project the caller may read still has a marker.
        let empty = ReplayCache.Marker(projects: [], versions: [:], caller: "anonymous", generation: 0)
        #expect(ReplayCache.Marker(value: try #require(empty.value)) == empty)
        #expect(ReplayCache.Marker(projects: [1], versions: [:], caller: "anonymous", generation: 0).value == nil)
        for bad in ["", "1=2", "0;1=2", "0;1=2;", "x;1=2;anonymous", "0;x=1;anonymous", "0;1=y;anonymous", "0;1=2=3;anonymous"] {
            #expect(ReplayCache.Marker(value: bad) == nil, "\(bad)")
        }
    }
}
