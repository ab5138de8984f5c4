import NIOCore
import NIOHTTP1

/// Hummingbird closes a connection after an answer only when the request's `Connection` header is
/// exactly `close`, and it cannot see the HTTP version. So an HTTP/1.0 request without keep-alive,
/// or an HTTP/1.1 one saying `Connection: Close` or `close, TE`, was answered and its connection
/// left open, and a client reading to the end waited. Below the codec, where the version is known,
/// this rewrites any request that does not keep its connection to say `Connection: close`, the
/// one spelling Hummingbird reads.
final class ConnectionCloseNormalizer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = self.unwrapInboundIn(data), !head.isKeepAlive,
            head.headers["Connection"] != ["close"]
        else {
            context.fireChannelRead(data)
            return
        }
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        context.fireChannelRead(self.wrapInboundOut(.head(head)))
    }
}
