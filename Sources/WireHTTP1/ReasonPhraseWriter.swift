import NIOCore
import NIOHTTP1

extension ReasonPhrase {
    /// Moves the `ReasonPhrase` header of a refusal onto the status line of the HTTP/1 response head.
    final class Writer: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            // Only refusals carry a message; a success is passed on without a look at its headers.
            guard case .head(var head) = self.unwrapOutboundIn(data), head.status.code >= 400,
                let reason = head.headers.takeInternal(ReasonPhrase.self)
            else {
                context.write(data, promise: promise)
                return
            }
            head.status = .custom(code: head.status.code, reasonPhrase: reason.parsed?.phrase ?? ReasonPhrase(message: reason.rawValue).phrase)
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
        }
    }
}
