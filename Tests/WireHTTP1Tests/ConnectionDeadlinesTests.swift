import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import WireHTTP1

/// The four deadlines on an embedded connection: NIO's real HTTP/1 server pipeline between the two
/// watchers, a responder that answers each request once it has ended, and the embedded loop's
/// virtual clock, so a minute passes in no time.
@Suite struct ConnectionDeadlinesTests {
    static let deadlines = ConnectionDeadlines(requestHead: .seconds(60), keepAlive: .seconds(75), requestBody: .seconds(30), send: .seconds(60))

    /// Answers `200` with a small body to every request once its end arrives, unless told to hold.
    final class Responder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        var hold = false
        var ended = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = self.unwrapInboundIn(data) else { return }
            self.ended += 1
            guard !self.hold else { return }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "2")
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    struct Rig {
        let channel: EmbeddedChannel
        let loop: EmbeddedEventLoop
        let responder: Responder

        func send(_ text: String) throws { try self.channel.writeInbound(ByteBuffer(string: text)) }
        func advance(seconds: Int64) { self.loop.advanceTime(by: .seconds(seconds)) }
        var isOpen: Bool { self.channel.isActive }

        /// Everything written to the socket so far, as text.
        func written() throws -> String {
            var text = ""
            while let data = try self.channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
            }
            return text
        }
    }

    private func rig() throws -> Rig {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let clock = ConnectionClock(deadlines: Self.deadlines, logger: Logger(label: "test"))
        let responder = Responder()
        try channel.pipeline.syncOperations.addHandler(DeadlineSocketWatcher(clock: clock))
        // As Hummingbird configures it: no pipelining assistance (heads may arrive ahead of
        // answers), no error handler.
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandlers(DeadlineExchangeWatcher(clock: clock), responder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return Rig(channel: channel, loop: loop, responder: responder)
    }

    @Test func aConnectionThatSendsNothingIsClosedSilentlyAtTheHeadDeadline() throws {
        let rig = try self.rig()
        rig.advance(seconds: 59)
        #expect(rig.isOpen)
        rig.advance(seconds: 2)
        #expect(!rig.isOpen)
        #expect(try rig.written() == "")
    }

    @Test func aHeadStillArrivingAtItsDeadlineGetsA408() throws {
        let rig = try self.rig()
        // A byte every three seconds: each is progress, none moves the deadline.
        try rig.send("GET / HTTP/1.1\r\nX: ")
        for second in stride(from: 0, to: 57, by: 3) {
            try rig.send("a")
            rig.advance(seconds: 3)
            #expect(rig.isOpen, "closed after \(second + 3) s")
        }
        try rig.send("a")
        rig.advance(seconds: 3)
        #expect(!rig.isOpen)
        #expect(try rig.written().hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }

    @Test func anIdleKeptAliveConnectionIsClosedAtTheKeepAliveDeadline() throws {
        let rig = try self.rig()
        rig.advance(seconds: 50)
        try rig.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try rig.written().hasPrefix("HTTP/1.1 200 OK"))
        // The head deadline of the first request no longer applies once it is answered.
        rig.advance(seconds: 74)
        #expect(rig.isOpen)
        rig.advance(seconds: 2)
        #expect(!rig.isOpen)
        #expect(try rig.written() == "")
    }

    @Test func theNextRequestsHeadIsTimedFromItsFirstByte() throws {
        let rig = try self.rig()
        try rig.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try rig.written()
        rig.advance(seconds: 70)
        try rig.send("GET / HT")
        rig.advance(seconds: 59)  // 129 s after the answer: past the keep-alive deadline, within the head's
        #expect(rig.isOpen)
        try rig.send("TP/1.1\r\nHost: x\r\n\r\n")
        #expect(try rig.written().hasPrefix("HTTP/1.1 200 OK"))
        #expect(rig.isOpen)
    }

    @Test func aBodyMayTakeAnyTimeWhileEachGapIsShorterThanTheBodyDeadline() throws {
        let rig = try self.rig()
        try rig.send("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n")
        for _ in 0..<10 {
            rig.channel.read()
            rig.advance(seconds: 29)
            #expect(rig.isOpen)
            try rig.send("a")
        }
        rig.channel.read()
        rig.advance(seconds: 31)
        #expect(!rig.isOpen)
        #expect(rig.responder.ended == 0)
        #expect(try !rig.written().contains("200 OK"))
    }

    @Test func aBodyTheServerDoesNotAskForIsNotTimed() throws {
        let rig = try self.rig()
        try rig.send("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\nabc")
        // No read asked for (the handler is busy with what it has): the client is not waited on.
        rig.advance(seconds: 600)
        #expect(rig.isOpen)
        rig.channel.read()
        rig.advance(seconds: 31)
        #expect(!rig.isOpen)
    }

    @Test func aRequestTheServerIsStillWorkingOnIsNeverCut() throws {
        let rig = try self.rig()
        rig.responder.hold = true
        try rig.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        rig.channel.read()
        rig.advance(seconds: 3600)
        #expect(rig.isOpen)
        #expect(rig.responder.ended == 1)
    }

    @Test func pipelinedRequestsAreEachAnsweredAndThenTheConnectionIdles() throws {
        let rig = try self.rig()
        try rig.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        let answers = try rig.written()
        #expect(answers.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        rig.advance(seconds: 74)
        #expect(rig.isOpen)
        rig.advance(seconds: 2)
        #expect(!rig.isOpen)
    }
}
