import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Out of descriptors, the listening socket stays readable and `accept` fails at once. NIO's own
/// `AcceptBackoffHandler` never sees a new read to hold back then (a read that accepted nothing
/// leaves the channel's read pending, so none is asked for), the socket stays registered, and the
/// event loop spins a core on `epoll_wait` and `accept4` until descriptors are freed, answering
/// nothing meanwhile. On the listening channel, this one stops accepting for `pause` on each such
/// failure by turning `autoRead` off, which takes the socket out of the poll set, and turns it back
/// on afterwards, so the server answers again by itself once descriptors are free.
final class AcceptPause: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    static let pause = TimeAmount.milliseconds(250)
    private let logger: Logger
    private var paused = false
    /// From the first failure until a connection is accepted again: one log line each way.
    private var exhausted = false

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.exhausted {
            self.exhausted = false
            self.logger.notice("accepting connections again")
        }
        context.fireChannelRead(data)
    }

    /// A read asked for during a pause (by the connection cap's handler, freeing a slot) would
    /// put the socket back in the poll set early: it waits for the pause's end, which reads.
    func read(context: ChannelHandlerContext) {
        guard !self.paused else { return }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) else {
            context.fireErrorCaught(error)
            return
        }
        if !self.exhausted {
            self.exhausted = true
            self.logger.warning("cannot accept connections: \(error); retrying every \(Self.pause.nanoseconds / 1_000_000) ms")
        }
        guard !self.paused, let options = context.channel.syncOptions else { return }
        self.paused = true
        try? options.setOption(.autoRead, value: false)
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) {
            self.paused = false
            try? options.setOption(.autoRead, value: true)
        }
    }
}

extension WireHTTP1 {
    /// Installs `AcceptPause` on the listening channel, from Hummingbird's `onServerRunning`.
    public static func pauseAcceptingWhenOutOfDescriptors(_ listener: any Channel, logger: Logger) async {
        do {
            try await listener.eventLoop.submit {
                try listener.pipeline.syncOperations.addHandler(AcceptPause(logger: logger), position: .first)
            }.get()
        } catch {
            logger.error("cannot install the accept pause", metadata: ["error": "\(error)"])
        }
    }
}
