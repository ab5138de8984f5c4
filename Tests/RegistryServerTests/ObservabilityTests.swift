import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import RegistryServer
@testable import WireHTTP1

@Suite struct MonitoringAllowlistTests {
    @Test func cidrsMatchTheirRangeOnly() throws {
        let list = try MonitoringAllowlist(parsing: "10.0.0.0/8, 192.168.1.7 ,fd00::/8")
        #expect(list.allows("10.255.0.1"))
        #expect(!list.allows("11.0.0.1"))
        #expect(list.allows("192.168.1.7"))
        #expect(!list.allows("192.168.1.8"))
        #expect(list.allows("fd12::1"))
        #expect(!list.allows("fe80::1"))
        #expect(!list.allows(nil))
        #expect(!list.allows("not an address"))
    }

    @Test func theDefaultIsLoopbackAndMappedIPv4IsIPv4() {
        #expect(MonitoringAllowlist.loopback.allows("127.0.0.1"))
        #expect(MonitoringAllowlist.loopback.allows("127.9.9.9"))
        #expect(MonitoringAllowlist.loopback.allows("::1"))
        #expect(MonitoringAllowlist.loopback.allows("::ffff:127.0.0.1"))
        #expect(!MonitoringAllowlist.loopback.allows("::ffff:10.0.0.1"))
        #expect(!MonitoringAllowlist.loopback.allows("10.0.0.1"))
    }

    @Test func prefixesNeedNotBeByteAligned() throws {
        let list = try MonitoringAllowlist(parsing: "172.16.0.0/12")
        #expect(list.allows("172.31.255.255"))
        #expect(!list.allows("172.32.0.0"))
    }

    @Test func badEntriesAreRefused() {
        for bad in ["10.0.0.0/33", "::/129", "example", "10.0.0.0/x", "1.2.3"] {
            #expect(throws: InvalidCIDR.self, "\(bad)") { try MonitoringAllowlist(parsing: bad) }
        }
    }
}

@Suite struct RequestIDTests {
    @Test func wellFormedIdsAreKeptOthersAreNot() {
        #expect(RequestID.accepting("abc-123_X.y:z") == "abc-123_X.y:z")
        #expect(RequestID.accepting(String(repeating: "a", count: 128)) != nil)
        for bad in ["", String(repeating: "a", count: 129), "a b", "a\r\nb", "é", "a/b", "<script>"] {
            #expect(RequestID.accepting(bad) == nil, "\(bad)")
        }
    }

    @Test func newIdsAreDistinctHex() {
        let source = RequestIDSource()
        let ids = (0..<1000).map { _ in source.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy { "0123456789abcdef".utf8.contains($0) } })
        #expect(RequestIDSource().next().prefix(16) != source.next().prefix(16))
    }
}

@Suite struct JSONLogHandlerTests {
    @Test func stringsAreEscaped() {
        var text = ""
        JSONLogHandler.appendString("a\"b\\c\nd\u{1}é", to: &text)
        #expect(text == #""a\"b\\c\nd\u0001é""#)
    }
}

@Suite struct OperationsEndpointsTests {
    @Test func probesAnswerAndMetricsCountThemByRoute() async throws {
        try await TestServer.run { _, client in
            let live = try await client.execute(uri: "/-/liveness", method: .get, headers: [RequestLogMiddleware.requestIDField: "probe-1"])
            #expect(live.status == .ok)
            #expect(live.headers[RequestLogMiddleware.requestIDField] == "probe-1")
            let ready = try await client.execute(uri: "/-/readiness", method: .get, headers: [RequestLogMiddleware.requestIDField: "bad id"])
            #expect(ready.status == .ok)
            #expect(String(buffer: ready.body) == #"{"status":"ok","checks":{"database":"ok","blob_store":"ok"}}"#)
            #expect(ready.headers[RequestLogMiddleware.requestIDField].map { $0 != "bad id" && $0.utf8.count == 32 } == true)
            // A method the route does not take is refused by routing, before any route is chosen.
            #expect(try await client.execute(uri: "/-/readiness", method: .post).status == .methodNotAllowed)

            let metrics = try await client.execute(uri: "/-/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"wheelhouse_http_requests_total{route="/-/liveness",method="GET",status="2xx"} 1"#))
            #expect(text.contains(#"wheelhouse_http_requests_total{route="unmatched",method="POST",status="4xx"} 1"#))
            #expect(text.contains(#"wheelhouse_build_info{version="test"} 1"#))
            #expect(text.contains("# HELP wheelhouse_http_requests_total "))
            #expect(text.contains("\nprocess_resident_memory_bytes "))
        }
    }
}
