import NIOCore
import NIOHTTP1

/// An HTTP/1.0 request without `Connection: keep-alive` expects the connection to close after its
/// answer. Hummingbird decides that from HTTP types, which carry no version, so it would keep such
/// a connection open and a client reading to the end would wait. Below the codec, where the version
/// is known, this says so in the words Hummingbird reads: `Connection: close`.
final class HTTP10Close: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = self.unwrapInboundIn(data), head.version.major == 1, head.version.minor == 0,
              !head.isKeepAlive
        else {
            context.fireChannelRead(data)
            return
        }
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        context.fireChannelRead(self.wrapInboundOut(.head(head)))
    }
}
