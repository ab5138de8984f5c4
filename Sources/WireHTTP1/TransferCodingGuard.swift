import NIOCore
import NIOHTTP1

/// NIO's decoder reads any `Transfer-Encoding` that ends in `chunked` as plain chunked framing,
/// so `gzip, chunked` reached the server as if its body were not compressed. No request body
/// coding but `chunked` is understood here, so such a request is answered `501 Not Implemented`
/// (RFC 9112, 6.1) before the server sees it, and the connection is closed: the rest of its body
/// is never read.
final class TransferCodingGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request heads seen, and answers ended: requests may be pipelined (Hummingbird reads ahead),
    /// and the refusal must not overtake an earlier request's answer, or land inside its body.
    private var requests = 0
    private var answers = 0
    /// The refused request's number and its answer's body, until the answers before it are out.
    private var refusal: (request: Int, codings: String, version: HTTPVersion)?
    /// After a refusal, the parts of that request go nowhere.
    private var refused = false

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        guard case .head(let head) = self.unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        self.requests += 1
        guard let codings = Self.unsupportedCodings(head.headers) else {
            context.fireChannelRead(data)
            return
        }
        self.refused = true
        self.refusal = (self.requests, codings, head.version)
        self.sendRefusalIfDue(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = self.unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd {
            self.answers += 1
            self.sendRefusalIfDue(context: context)
        }
    }

    private func sendRefusalIfDue(context: ChannelHandlerContext) {
        guard let refusal = self.refusal, self.answers == refusal.request - 1 else { return }
        self.refusal = nil
        let body = ByteBuffer(
            string: "{\"message\":\"501 Not Implemented: Transfer-Encoding \(refusal.codings) is not supported; send chunked or a Content-Length\"}"
        )
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        var clock = HTTPDate.Clock()
        headers.add(name: "Date", value: clock.now())
        headers.add(name: "Server", value: "Wheelhouse")
        let head = HTTPResponseHead(version: refusal.version, status: .notImplemented, headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }

    /// The codings named other than a single `chunked`, as a quoted-for-JSON-safe list; nil when
    /// the request has no `Transfer-Encoding` or says just `chunked`.
    static func unsupportedCodings(_ headers: HTTPHeaders) -> String? {
        let codings = headers[canonicalForm: "Transfer-Encoding"].map { $0.lowercased() }
        guard !codings.isEmpty, codings != ["chunked"] else { return nil }
        let named = codings.joined(separator: ", ").unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }
        return String(String.UnicodeScalarView(named.prefix(100)))
    }
}
