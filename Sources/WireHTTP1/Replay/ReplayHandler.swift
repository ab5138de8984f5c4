import Logging
import NIOCore
import NIOHTTP1

/// Sits below Hummingbird's HTTP-types codec, on HTTP/1 parts. A GET whose answer `ReplayCache`
/// holds is answered here, on the event loop, without the request or its answer being converted
/// between HTTP/1 and HTTP types; every other request goes on to Hummingbird, and the answers it
/// marks as replayable are kept on their way out. The marker never leaves the server.
///
/// Requests on a connection are answered in order: while one is with Hummingbird (or its answer is
/// still being written), the ones behind it go there too. A replay is written only while the
/// connection is writable, so a client that does not read its answers is held back by Hummingbird's
/// back-pressure as on the normal path.
final class ReplayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let cache: ReplayCache
    private let observer: ReplayObserver
    private let requestIDs: RequestIDSource
    private let logger: Logger
    /// Keys of the requests handed to Hummingbird whose answers have not begun, oldest first (nil: not replayable).
    private var forwarded: [ReplayCache.Key?] = []
    /// Whether an answer from Hummingbird has begun and not ended.
    private var answering = false
    /// The answer being replayed, sent when the request's end arrives, with the request's id and
    /// when its head arrived.
    private var replaying: (answer: ReplayCache.Answer, path: String, requestID: String, started: ContinuousClock.Instant)?
    /// What is being kept of an answer on its way out.
    private var capture: (key: ReplayCache.Key, answer: ReplayCache.Answer)?
    private var needsFlush = false
    private var date = HTTPDate.Clock()

    init(cache: ReplayCache, observer: ReplayObserver, requestIDs: RequestIDSource, logger: Logger) {
        self.cache = cache
        self.observer = observer
        self.requestIDs = requestIDs
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let request):
            let key = ReplayCache.Key(request, credentialHeaders: self.cache.credentialHeaders)
            if self.forwarded.isEmpty, !self.answering, context.channel.isWritable, let key,
                let answer = self.cache.answer(for: key)
            {
                let requestID = RequestID.accepting(request.headers.first(name: RequestID.headerName)) ?? self.requestIDs.next()
                self.replaying = (answer, key.path, requestID, .now)
                return
            }
            self.forwarded.append(key)
            context.fireChannelRead(data)
        case .body:
            // A GET is replayed only without a body (see `Key`); anything else goes on.
            if self.replaying == nil { context.fireChannelRead(data) }
        case .end:
            guard let (answer, path, requestID, started) = self.replaying else {
                context.fireChannelRead(data)
                return
            }
            self.replaying = nil
            self.send(answer, requestID: requestID, context: context)
            let duration = ContinuousClock.now - started
            let status = Int(answer.head.status.code)
            self.observer.replayed(answer.route, status, answer.body.readableBytes, duration)
            self.logger.info(
                "GET \(Self.loggedPath(path)) \(status)",
                metadata: [
                    "caller": "\(answer.caller)", "replayed": "true", "request_id": "\(requestID)", "route": "\(answer.route)",
                    "method": "GET", "status": "\(status)", "duration_ms": "\(duration.milliseconds)",
                ]
            )
        }
    }

    /// A request target as the normal path logs it: the path alone, without the query or the
    /// scheme and authority of an absolute-form target (either may hold a secret).
    static func loggedPath(_ target: String) -> Substring {
        var path = Substring(target)
        if !path.hasPrefix("/"), let scheme = path.firstRange(of: "://") {
            path = path[scheme.upperBound...]
            path = path[(path.firstIndex(of: "/") ?? path.endIndex)...]
        }
        return path.prefix { $0 != "?" }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    private func send(_ answer: ReplayCache.Answer, requestID: String, context: ChannelHandlerContext) {
        var head = answer.head
        head.headers.replaceOrAdd(name: "Date", value: self.date.now())
        head.headers.replaceOrAdd(name: RequestID.headerName, value: requestID)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        if answer.body.readableBytes > 0 {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
        }
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.needsFlush = true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(var head) where head.status.code < 200:
            // A 100 Continue is not the answer: the request's final head is still to come.
            _ = head.headers.takeInternal(ReplayableAnswer.self)
            _ = head.headers.takeInternal(RouteLabel.self)
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
            return
        case .head(var head):
            let key = self.forwarded.isEmpty ? nil : self.forwarded.removeFirst()
            self.answering = true
            self.capture = nil
            if let marker = head.headers.takeInternal(ReplayableAnswer.self) {
                let route = head.headers.takeInternal(RouteLabel.self)?.parsed?.label ?? "unmatched"
                if let key, let marker = marker.parsed {
                    let answer = ReplayCache.Answer(
                        head: head,
                        caller: marker.caller,
                        route: route,
                        body: ByteBuffer(),
                        projects: marker.projects,
                        versions: marker.versions,
                        generation: marker.generation,
                        expires: ContinuousClock.now + self.cache.lifetime
                    )
                    self.capture = (key, answer)
                }
                context.write(self.wrapOutboundOut(.head(head)), promise: promise)
                return
            }
        case .body(.byteBuffer(var buffer)):
            if var capture = self.capture {
                self.capture = nil
                if capture.answer.body.readableBytes + buffer.readableBytes <= ReplayCache.largestBody {
                    if capture.answer.body.readableBytes == 0 {
                        capture.answer.body = buffer
                    } else {
                        capture.answer.body.writeBuffer(&buffer)
                    }
                    self.capture = capture
                }
            }
        case .body(.fileRegion):
            // Sent from disk, not kept.
            self.capture = nil
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
