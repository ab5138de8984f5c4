import NIOCore
import NIOHTTP1

/// Next to the socket: tells the connection's clock when bytes arrive, when the server asks for
/// more, and how many bytes go out. It starts the clock when the connection starts.
final class DeadlineSocketWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let clock: ConnectionClock

    init(clock: ConnectionClock) {
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.clock.started(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.clock.started(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.clock.stopped()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.clock.stopped()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.clock.bytesArrived()
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        self.clock.readRequested()
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.clock.wrote(self.unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}

/// Below the HTTP codec: tells the connection's clock where each exchange stands, from the
/// request parts the decoder delivers and the last part of each answer, counted once the socket
/// has taken it.
final class DeadlineExchangeWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let clock: ConnectionClock

    init(clock: ConnectionClock) {
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head: self.clock.headReceived()
        case .end: self.clock.requestEnded()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = self.unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        let clock = self.clock
        written.futureResult.assumeIsolated().whenSuccess { clock.answerWritten() }
        context.write(data, promise: written)
    }
}
