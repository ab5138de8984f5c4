import NIOCore
import NIOHTTP1

/// Hummingbird closes a connection after an answer only when the request's `Connection` header is
/// exactly `close`, and it cannot see the HTTP version. So an HTTP/1.0 request without keep-alive,
/// or an HTTP/1.1 one saying `Connection: Close` or `close, TE`, was answered and its connection
/// left open, and a client reading to the end waited. Below the codec, where the version is known,
/// this rewrites any request that does not keep its connection to say `Connection: close`, the
/// one spelling Hummingbird reads; and the answer to it says `Connection: close` too (RFC 9112,
/// 9.6), or a client's pool puts the connection back and reuses it as it closes.
final class ConnectionCloseNormalizer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests received whose connection ends with their answer, and answers begun: the answer
    /// to the first closing request is the one that says so (pipelined answers come in order).
    private var closingRequest: Int?
    private var requests = 0
    private var answers = 0

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = self.unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        self.requests += 1
        guard !head.isKeepAlive else {
            context.fireChannelRead(data)
            return
        }
        if self.closingRequest == nil { self.closingRequest = self.requests }
        guard head.headers["Connection"] != ["close"] else {
            context.fireChannelRead(data)
            return
        }
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        context.fireChannelRead(self.wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = self.unwrapOutboundIn(data), head.status.code >= 200 else {
            context.write(data, promise: promise)
            return
        }
        self.answers += 1
        guard self.answers == self.closingRequest, !head.headers.contains(name: "Connection") else {
            context.write(data, promise: promise)
            return
        }
        head.headers.add(name: "Connection", value: "close")
        context.write(self.wrapOutboundOut(.head(head)), promise: promise)
    }
}
