import HTTPTypes
import Testing

@testable import RegistryServer

@Suite struct ReplayKeyTests {
    private func request(_ method: HTTPRequest.Method = .get, path: String = "/api/v4/projects/1/packages/pypi/simple/a/", _ fields: HTTPFields = [:]) -> HTTPRequest {
        HTTPRequest(method: method, scheme: nil, authority: "registry.example", path: path, headerFields: fields)
    }

    @Test func onlyBodilessGetsThatKeepTheConnectionAreReplayable() {
        #expect(ReplayCache.Key(self.request()) != nil)
        #expect(ReplayCache.Key(self.request(.head)) == nil)
        #expect(ReplayCache.Key(self.request(.post)) == nil)
        #expect(ReplayCache.Key(self.request(.get, [.contentLength: "3"])) == nil)
        #expect(ReplayCache.Key(self.request(.get, [.transferEncoding: "chunked"])) == nil)
        #expect(ReplayCache.Key(self.request(.get, [.connection: "Close"])) == nil)
    }

    @Test func everythingTheAnswerDependsOnIsInTheKey() {
        let plain = ReplayCache.Key(self.request())
        for fields: HTTPFields in [
            [.accept: "application/vnd.pypi.simple.v1+json"], [.ifNoneMatch: "\"x\""], [.range: "bytes=0-9"],
            [.ifRange: "\"x\""], [.authorization: "Bearer a"], [.init("PRIVATE-TOKEN")!: "a"], [.init("Deploy-Token")!: "a"],
        ] {
            #expect(ReplayCache.Key(self.request(.get, fields)) != plain, "\(fields)")
        }
        #expect(ReplayCache.Key(self.request(path: "/api/v4/projects/2/packages/pypi/simple/a/")) != plain)
        // An irrelevant header does not split answers.
        #expect(ReplayCache.Key(self.request(.get, [.userAgent: "pip/26.3"])) == plain)
    }

    @Test func credentialsAreKeptOnlyAsADigestAndTellCallersApart() throws {
        let alice = try #require(ReplayCache.Key(self.request(.get, [.authorization: "Basic YWxpY2U6c2VjcmV0LWE="])))
        let bob = try #require(ReplayCache.Key(self.request(.get, [.authorization: "Basic Ym9iOnNlY3JldC1i"])))
        #expect(alice != bob)
        #expect(alice == ReplayCache.Key(self.request(.get, [.authorization: "Basic YWxpY2U6c2VjcmV0LWE="])))
        #expect(alice.credentials != nil)
        // The same value in another header is another credential.
        #expect(ReplayCache.Key(self.request(.get, [.init("PRIVATE-TOKEN")!: "x"])) != ReplayCache.Key(self.request(.get, [.init("Deploy-Token")!: "x"])))
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
