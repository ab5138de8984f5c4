import Logging
import NIOCore

/// One connection's deadlines, fed by the two handlers that watch it: `DeadlineSocketWatcher`
/// next to the socket (bytes in, reads asked for, bytes out) and `DeadlineExchangeWatcher` below
/// the HTTP codec (request heads and ends, the end of each answer). It lives on the connection's
/// event loop and is never shared beyond it.
///
/// It keeps at most two timers, and moves neither on the hot path: a later deadline only updates
/// a value, and the timer, when it fires early, sleeps again until that value. A replayed answer
/// costs a clock read and a promise, not a timer.
final class ConnectionClock {
    /// Why a connection was closed.
    enum Expiry: String {
        case requestHead = "request head not received in time"
        case keepAlive = "idle kept-alive connection"
        case requestBody = "request body stalled"
        case send = "answer left unread"
    }

    let deadlines: ConnectionDeadlines
    let logger: Logger
    /// The socket watcher's context: closes and the 408 go from there, past `DrainBeforeClose`,
    /// which would otherwise wait for the very bytes the client does not read.
    private var context: ChannelHandlerContext?

    // The exchange, counted: a request is in its body until its end arrives, and answered once the
    // last part of its answer has been handed to the kernel.
    private var heads = 0
    private var ends = 0
    private var answers = 0
    /// A byte arrived since the last complete exchange: a next request has begun.
    private var nextRequestBegun = false

    private var phaseDeadline: NIODeadline?
    private var phaseExpiry = Expiry.requestHead
    private var phaseTimer: Scheduled<Void>?
    private var phaseTimerAt: NIODeadline?

    private var sendTimer: Scheduled<Void>?
    private var bufferedAtCheck = 0
    private var writtenSinceCheck = 0

    init(deadlines: ConnectionDeadlines, logger: Logger) {
        self.deadlines = deadlines
        self.logger = logger
    }

    // MARK: - Events

    func started(context: ChannelHandlerContext) {
        self.context = context
        self.setPhaseDeadline(self.now + self.deadlines.requestHead, .requestHead)
    }

    func stopped() {
        self.phaseTimer?.cancel()
        self.sendTimer?.cancel()
        self.phaseTimer = nil
        self.sendTimer = nil
        self.context = nil
    }

    func bytesArrived() {
        if self.ends < self.heads {
            // More of a body: the gap is over until the server asks again.
            self.phaseDeadline = nil
        } else if !self.nextRequestBegun {
            self.nextRequestBegun = true
            if self.heads > 0, self.answers == self.heads {
                // The first byte after an idle gap starts the head's own deadline; the first
                // request's counts from the connection's start.
                self.setPhaseDeadline(self.now + self.deadlines.requestHead, .requestHead)
            }
        }
    }

    func readRequested() {
        guard self.ends < self.heads, self.phaseDeadline == nil else { return }
        self.setPhaseDeadline(self.now + self.deadlines.requestBody, .requestBody)
    }

    func headReceived() {
        self.heads += 1
        self.nextRequestBegun = false
        self.phaseDeadline = nil  // the body's gap is counted from the next read the server asks for
    }

    func requestEnded() {
        self.ends += 1
        self.exchangeMayHaveEnded()
    }

    func answerWritten() {
        self.answers += 1
        self.exchangeMayHaveEnded()
    }

    private func exchangeMayHaveEnded() {
        if self.ends < self.heads {
            return  // answered before its body ended: the body's deadline still holds
        }
        if self.answers < self.heads {
            self.phaseDeadline = nil  // the server is working on it: no deadline on the client
        } else if self.nextRequestBegun {
            self.setPhaseDeadline(self.now + self.deadlines.requestHead, .requestHead)
        } else {
            self.setPhaseDeadline(self.now + self.deadlines.keepAlive, .keepAlive)
        }
    }

    /// Counts bytes handed to the socket. The first write after a drained buffer starts a check,
    /// one per `send` deadline while anything stays buffered.
    func wrote(_ bytes: Int) {
        if self.sendTimer == nil, let context = self.context {
            self.bufferedAtCheck = Self.buffered(context)
            self.writtenSinceCheck = 0
            self.scheduleSendCheck(context)
        }
        self.writtenSinceCheck += bytes
    }

    // MARK: - Timers

    /// The event loop's time (an embedded loop's own, in tests).
    private var now: NIODeadline { self.context?.eventLoop.now ?? .now() }

    private func setPhaseDeadline(_ deadline: NIODeadline, _ expiry: Expiry) {
        self.phaseDeadline = deadline
        self.phaseExpiry = expiry
        if let at = self.phaseTimerAt, at <= deadline { return }
        self.phaseTimer?.cancel()
        self.schedulePhaseTimer(at: deadline)
    }

    private func schedulePhaseTimer(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        self.phaseTimerAt = deadline
        self.phaseTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.phaseTimer = nil
            self.phaseTimerAt = nil
            guard let deadline = self.phaseDeadline else { return }
            if self.now < deadline {
                self.schedulePhaseTimer(at: deadline)
            } else {
                self.expire(self.phaseExpiry)
            }
        }
    }

    private func scheduleSendCheck(_ context: ChannelHandlerContext) {
        self.sendTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.deadlines.send) { [self] in
            self.sendTimer = nil
            guard let context = self.context else { return }
            let buffered = Self.buffered(context)
            if buffered == 0 { return }  // all sent: the next write starts a new check
            let drained = self.bufferedAtCheck + self.writtenSinceCheck - buffered
            if drained > 0 {
                self.bufferedAtCheck = buffered
                self.writtenSinceCheck = 0
                self.scheduleSendCheck(context)
            } else {
                self.expire(.send)
            }
        }
    }

    private static func buffered(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    private func expire(_ expiry: Expiry) {
        guard let context = self.context else { return }
        let level: Logger.Level = expiry == .keepAlive ? .trace : (expiry == .requestHead ? .debug : .info)
        self.logger.log(
            level: level,
            "connection closed: \(expiry.rawValue)",
            metadata: ["peer": "\(context.channel.remoteAddress?.description ?? "?")"]
        )
        if expiry == .requestHead, self.nextRequestBegun {
            // Part of a head arrived: say why it is closed. An idle connection is closed silently,
            // as a client may be sending its next request at this moment.
            context.writeAndFlush(NIOAny(IOData.byteBuffer(ByteBuffer(string: Self.requestTimeout))), promise: nil)
        }
        self.stopped()
        context.close(promise: nil)
    }

    private static let requestTimeout = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
}
