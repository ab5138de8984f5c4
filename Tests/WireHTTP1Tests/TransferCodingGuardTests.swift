import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import WireHTTP1

/// The guard behind NIO's real HTTP/1 server pipeline: only a plain `chunked` body reaches the server.
@Suite struct TransferCodingGuardTests {
    final class Recorder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        var heads: [HTTPRequestHead] = []
        var bodyBytes = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head): self.heads.append(head)
            case .body(let buffer): self.bodyBytes += buffer.readableBytes
            case .end: break
            }
        }
    }

    private func send(_ request: String) throws -> (channel: EmbeddedChannel, recorder: Recorder, written: String) {
        let channel = EmbeddedChannel()
        let recorder = Recorder()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandlers(TransferCodingGuard(), recorder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        try channel.writeInbound(ByteBuffer(string: request))
        var written = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: buffer) }
        return (channel, recorder, written)
    }

    @Test(arguments: ["gzip, chunked", "deflate,chunked", "GZIP, Chunked"])
    func aCodingOtherThanChunkedIsRefusedWith501(codings: String) throws {
        let (channel, recorder, written) = try self.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \(codings)\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        #expect(written.hasPrefix("HTTP/1.1 501 Not Implemented\r\n"))
        #expect(written.contains("Connection: close"))
        #expect(recorder.heads.isEmpty && recorder.bodyBytes == 0)
        #expect(!channel.isActive)
    }

    @Test(arguments: ["chunked", "Chunked"])
    func plainChunkedPassesThrough(coding: String) throws {
        let (channel, recorder, written) = try self.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \(coding)\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        #expect(written.isEmpty)
        #expect(recorder.heads.count == 1 && recorder.bodyBytes == 5)
        #expect(channel.isActive)
    }

    /// Pipelined behind a request not yet answered, the refusal waits for that answer: it must
    /// neither be taken for it nor land inside its body.
    @Test func aPipelinedRefusalWaitsForTheAnswersBeforeIt() throws {
        let (channel, recorder, early) = try self.send(
            "GET /big HTTP/1.1\r\nHost: x\r\n\r\nPOST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        #expect(early.isEmpty)
        #expect(recorder.heads.map(\.uri) == ["/big"])
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "6")
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "first "))), promise: nil)
        var written = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: buffer) }
        #expect(!written.contains("501"))
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: buffer) }
        // The first answer whole, then the refusal.
        let parts = written.components(separatedBy: "HTTP/1.1 501 Not Implemented")
        #expect(parts.count == 2)
        #expect(parts[0].hasPrefix("HTTP/1.1 200 OK") && parts[0].hasSuffix("first "))
        #expect(!channel.isActive)
    }

    @Test func aRequestWithoutTransferEncodingPassesThrough() throws {
        let (_, recorder, written) = try self.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(written.isEmpty && recorder.heads.count == 1)
    }
}
