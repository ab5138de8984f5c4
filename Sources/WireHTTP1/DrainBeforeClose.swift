import NIOCore

/// Hummingbird counts an answer as sent once its last part is written to the channel, but the
/// bytes may still be queued there: a file region of many megabytes, a large page, or answers
/// pipelined behind them. A close asked for then (after `Connection: close`, a client's half-close,
/// which NIO turns into a full close, or a graceful shutdown) would throw the queue away and cut
/// an answer short. So this handler, next to the socket, holds every close until what was written
/// before it has gone out: it writes an empty buffer and closes when that write completes, since
/// writes complete in order. It costs nothing per write; a close waits at most `grace`, so a client
/// that stops reading cannot hold a shutdown forever.
final class DrainBeforeClose: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    static let grace = TimeAmount.seconds(60)

    init() {}

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode != .input, context.channel.isActive else {
            context.close(mode: mode, promise: promise)
            return
        }
        let held = HeldClose(mode: mode, promise: promise)
        held.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: Self.grace) {
            held.release(context: context)
        }
        let drained = context.eventLoop.makePromise(of: Void.self)
        drained.futureResult.assumeIsolated().whenComplete { _ in
            held.release(context: context)
        }
        context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: drained)
    }

    /// One close waiting for the writes before it, released once: by them or by its deadline.
    private final class HeldClose {
        let mode: CloseMode
        let promise: EventLoopPromise<Void>?
        var deadline: Scheduled<Void>?
        private var released = false

        init(mode: CloseMode, promise: EventLoopPromise<Void>?) {
            self.mode = mode
            self.promise = promise
        }

        func release(context: ChannelHandlerContext) {
            guard !self.released else { return }
            self.released = true
            self.deadline?.cancel()
            self.deadline = nil
            context.close(mode: self.mode, promise: self.promise)
        }
    }
}
