import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird adds its extra channel handlers above its HTTP-types codec, where they see
/// `HTTPRequest` and `HTTPResponse`. Some of ours must work on the HTTP/1 parts instead: to write a
/// reason phrase, a file region, or a replayed answer without a conversion; and some on the bytes,
/// next to the socket. This one sits with Hummingbird's handlers and, once in a pipeline, places
/// `belowCodec` just below the codec, in order (the first nearest the socket), and `atSocket` first
/// in the pipeline, then removes itself.
final class BelowCodecInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let belowCodec: [any ChannelHandler]
    private let atSocket: [any ChannelHandler]
    private let logger: Logger

    init(belowCodec: [any ChannelHandler], atSocket: [any ChannelHandler] = [], logger: Logger) {
        self.belowCodec = belowCodec
        self.atSocket = atSocket
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandlers(self.belowCodec, position: .before(codec))
            try pipeline.addHandlers(self.atSocket, position: .first)
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
