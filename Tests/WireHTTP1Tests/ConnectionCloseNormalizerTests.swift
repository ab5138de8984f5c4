import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import WireHTTP1

/// A request that ends its connection reaches the server saying `Connection: close`, and its
/// answer says so too; a kept-alive one is left alone.
@Suite struct ConnectionCloseNormalizerTests {
    final class Responder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        var connectionHeaders: [[String]] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head): self.connectionHeaders.append(head.headers["Connection"])
            case .end:
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            case .body: break
            }
        }
    }

    private func exchange(_ request: String) throws -> (responder: Responder, written: String) {
        let channel = EmbeddedChannel()
        let responder = Responder()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandlers(ConnectionCloseNormalizer(), responder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        try channel.writeInbound(ByteBuffer(string: request))
        var written = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: buffer) }
        return (responder, written)
    }

    @Test(arguments: [
        "GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close, TE\r\n\r\n",
    ])
    func aClosingRequestAndItsAnswerSayClose(request: String) throws {
        let (responder, written) = try self.exchange(request)
        #expect(responder.connectionHeaders == [["close"]])
        #expect(written.lowercased().contains("\r\nconnection: close\r\n"))
    }

    @Test func aKeptAliveRequestIsLeftAlone() throws {
        let (responder, written) = try self.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(responder.connectionHeaders == [[]])
        #expect(!written.lowercased().contains("connection:"))
    }
}
