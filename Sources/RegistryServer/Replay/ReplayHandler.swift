import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Registry

/// Sits between the HTTP/1 codec and Hummingbird. A GET whose answer `ReplayCache`
/// holds is answered here, on the event loop; every other request goes on to Hummingbird, and the
/// answers it marks as replayable are kept on their way out. The marker never leaves the server.
///
/// Requests on a connection are answered in order: while one is with Hummingbird (or its answer is
/// still being written), the ones behind it go there too. A replay is written only while the
/// connection is writable, so a client that does not read its answers is held back by Hummingbird's
/// back-pressure as on the normal path.
final class ReplayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let cache: ReplayCache
    private let logger: Logger
    /// Keys of the requests handed to Hummingbird whose answers have not begun, oldest first (nil: not replayable).
    private var forwarded: [ReplayCache.Key?] = []
    /// Whether an answer from Hummingbird has begun and not ended.
    private var answering = false
    /// The answer being replayed, sent when the request's end arrives.
    private var replaying: (ReplayCache.Answer, path: String)?
    /// What is being kept of an answer on its way out.
    private var capture: (key: ReplayCache.Key, answer: ReplayCache.Answer, size: Int)?
    private var needsFlush = false
    private var date = HTTPDate()

    init(cache: ReplayCache, logger: Logger) {
        self.cache = cache
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        switch part {
        case .head(let request):
            let key = ReplayCache.Key(request)
            if self.forwarded.isEmpty, !self.answering, context.channel.isWritable, let key,
               let answer = self.cache.answer(for: key)
            {
                self.replaying = (answer, key.path)
                return
            }
            self.forwarded.append(key)
            context.fireChannelRead(data)
        case .body:
            // A GET is replayed only without a body (see `Key`); anything else goes on.
            if self.replaying == nil { context.fireChannelRead(data) }
        case .end:
            guard let (answer, path) = self.replaying else {
                context.fireChannelRead(data)
                return
            }
            self.replaying = nil
            self.send(answer, context: context)
            // The path without its query, as the normal path logs it: a query may hold a secret.
            self.logger.info(
                "GET \(path.prefix { $0 != "?" }) \(answer.head.status.code)",
                metadata: ["caller": "\(answer.caller)", "replayed": "true"]
            )
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    private func send(_ answer: ReplayCache.Answer, context: ChannelHandlerContext) {
        var head = answer.head
        head.headerFields[.date] = self.date.now()
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        for buffer in answer.body {
            context.write(self.wrapOutboundOut(.body(buffer)), promise: nil)
        }
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.needsFlush = true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(var head) where head.status.kind == .informational:
            // A 100 Continue is not the answer: the request's final head is still to come.
            head.headerFields[ReplayCache.marker] = nil
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
            return
        case .head(var head):
            let key = self.forwarded.isEmpty ? nil : self.forwarded.removeFirst()
            self.answering = true
            self.capture = nil
            if let marker = head.headerFields[ReplayCache.marker] {
                head.headerFields[ReplayCache.marker] = nil
                if let key, let marker = ReplayCache.Marker(value: marker) {
                    let answer = ReplayCache.Answer(
                        head: head, caller: marker.caller, body: [], projects: marker.projects, versions: marker.versions,
                        generation: marker.generation, expires: ContinuousClock.now + ReplayCache.lifetime
                    )
                    self.capture = (key, answer, 0)
                }
                context.write(self.wrapOutboundOut(.head(head)), promise: promise)
                return
            }
        case .body(let buffer):
            if var capture = self.capture {
                capture.size += buffer.readableBytes
                capture.answer.body.append(buffer)
                self.capture = capture.size <= ReplayCache.largestBody ? capture : nil
            }
        case .end:
            self.answering = false
            if let capture = self.capture {
                self.cache.store(capture.answer, for: capture.key)
                self.capture = nil
            }
        }
        context.write(data, promise: promise)
    }
}

/// The `Date` header's value, formatted once a second.
struct HTTPDate {
    private var second: Int64 = -1
    private var value = ""

    mutating func now() -> String {
        let timestamp = Timestamp.now()
        let second = timestamp.microseconds / 1_000_000
        if second != self.second {
            self.second = second
            self.value = Timestamp(microseconds: second * 1_000_000).httpDate
        }
        return self.value
    }
}
