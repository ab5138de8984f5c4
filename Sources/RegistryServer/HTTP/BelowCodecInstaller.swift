import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird adds its extra channel handlers above its HTTP-types codec, where they see
/// `HTTPRequest` and `HTTPResponse`. Some of ours must work on the HTTP/1 parts instead: to write a
/// reason phrase, a file region, or a replayed answer without a conversion. This one sits with
/// Hummingbird's handlers and, once in a pipeline, places `handlers` just below the codec, in
/// order (the first nearest the socket), then removes itself.
final class BelowCodecInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let handlers: [any ChannelHandler]
    private let logger: Logger

    init(_ handlers: [any ChannelHandler], logger: Logger) {
        self.handlers = handlers
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandlers(self.handlers, position: .before(codec))
        } catch {
            // Without them answers would go out wrong (a file's head without its bytes): serve none.
            self.logger.critical("cannot install HTTP/1 handlers", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        // Its work is done: leave the read path one handler shorter.
        pipeline.removeHandler(context: context, promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }
}
