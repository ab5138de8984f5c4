import HTTPTypes
import NIOHTTP1
import Testing

@testable import WireHTTP1

/// The contract between the responder and the wire layer: each internal header is written on
/// `HTTPFields` and taken off NIO's `HTTPHeaders`, and only its own form is read back.
@Suite struct InternalHeadersTests {
    static let sha256 = String(repeating: "ab", count: 32)

    /// Writes `header` as the responder does, then takes it as the wire layer does.
    private func roundTrip<Header: InternalHeader>(_ header: Header) -> (taken: TakenInternalHeader<Header>?, left: HTTPHeaders) {
        var fields = HTTPFields()
        fields[.contentLength] = "0"
        fields.setInternal(header)
        var headers = HTTPHeaders(fields.map { ($0.name.canonicalName, $0.value) })
        let taken = headers.takeInternal(Header.self)
        return (taken, headers)
    }

    @Test func everyHeaderRoundTripsAndIsRemoved() throws {
        let mark = try #require(ReplayableAnswer(projects: [7, 3], versions: [3: 1, 7: 40], caller: "user:alice", generation: 4))
        let file = FileBodyRange(sha256: Self.sha256, range: 10...65_545)
        let reason = ReasonPhrase(message: "400 File name has already been taken")
        #expect(reason.phrase == "File name has already been taken")

        let (markTaken, markLeft) = self.roundTrip(mark)
        #expect(markTaken?.parsed == mark)
        #expect(markLeft.map { $0.name.lowercased() } == ["content-length"])
        let (fileTaken, fileLeft) = self.roundTrip(file)
        #expect(fileTaken?.parsed == file)
        #expect(fileLeft.map { $0.name.lowercased() } == ["content-length"])
        let (reasonTaken, reasonLeft) = self.roundTrip(reason)
        #expect(reasonTaken?.parsed == reason)
        #expect(reasonLeft.map { $0.name.lowercased() } == ["content-length"])
    }

    @Test func anAbsentHeaderIsNotTakenAndAnUnreadableOneIsTakenButNotParsed() {
        var headers: HTTPHeaders = ["Content-Length": "0"]
        #expect(headers.takeInternal(FileBodyRange.self) == nil)
        headers.add(name: "wheelhouse-file", value: "../../etc/passwd 0-1")
        let taken = headers.takeInternal(FileBodyRange.self)
        #expect(taken?.rawValue == "../../etc/passwd 0-1")
        #expect(taken?.parsed == nil)
        #expect(!headers.contains(name: "Wheelhouse-File"))
    }

    @Test func theThreeNamesAreDistinctAndInternal() {
        let names = [ReplayableAnswer.name, FileBodyRange.name, ReasonPhrase.name].map(\.rawName)
        #expect(Set(names).count == 3)
        #expect(names.allSatisfy { $0.hasPrefix("Wheelhouse-") })
    }

    @Test func aReasonPhraseHoldsOnlyWhatAStatusLineMay() {
        #expect(ReasonPhrase(message: "bad\r\nInjected: yes").phrase == "bad??Injected: yes")
        #expect(ReasonPhrase(message: "caf\u{e9}").phrase == "caf?")
        #expect(ReasonPhrase(message: String(repeating: "x", count: 500)).phrase.count == 200)
        #expect(ReasonPhrase(message: "404").phrase == "404")
        #expect(ReasonPhrase(headerValue: "bad\r\n") == nil)
        #expect(ReasonPhrase(headerValue: "fine\tphrase")?.phrase == "fine\tphrase")
    }

    @Test func replayableAnswerRoundTripsInProjectOrder() throws {
        let marker = try #require(ReplayableAnswer(projects: [7, 3, 12], versions: [3: 1, 7: 40, 12: 0], caller: "user:alice", generation: 4))
        let value = marker.headerValue
        #expect(value == "4;7=40,3=1,12=0;user:alice")
        #expect(ReplayableAnswer(headerValue: value) == marker)
        // A group with no project the caller may read still has a marker.
        let empty = try #require(ReplayableAnswer(projects: [], versions: [:], caller: "anonymous", generation: 0))
        #expect(ReplayableAnswer(headerValue: empty.headerValue) == empty)
        #expect(ReplayableAnswer(projects: [1], versions: [:], caller: "anonymous", generation: 0) == nil)
        for bad in ["", "1=2", "0;1=2", "0;1=2;", "x;1=2;anonymous", "0;x=1;anonymous", "0;1=y;anonymous", "0;1=2=3;anonymous"] {
            #expect(ReplayableAnswer(headerValue: bad) == nil, "\(bad)")
        }
    }

    @Test func headerValueRoundTripsAndOnlyItsOwnFormIsRead() throws {
        let value = FileBodyRange(sha256: Self.sha256, range: 10...65_545).headerValue
        let parsed = try #require(FileBodyRange(headerValue: value))
        #expect(parsed.sha256 == Self.sha256 && parsed.range == 10...65_545)
        for bad in [
            "", Self.sha256, "\(Self.sha256) 5", "\(Self.sha256) 9-5", "\(Self.sha256) -1-5", "\(Self.sha256) 1-2-3",
            "\(Self.sha256.uppercased()) 0-1", "../../etc/passwd 0-1", "\(Self.sha256.dropLast()) 0-1", "\(Self.sha256) 0-1 x",
        ] {
            #expect(FileBodyRange(headerValue: bad) == nil, "\(bad)")
        }
    }
}
