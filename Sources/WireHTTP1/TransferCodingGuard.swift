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

    /// After a refusal, the parts of that request go nowhere.
    private var refused = false

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        guard case .head(let head) = self.unwrapInboundIn(data), let codings = Self.unsupportedCodings(head.headers) else {
            context.fireChannelRead(data)
            return
        }
        self.refused = true
        let body = ByteBuffer(
            string: "{\"message\":\"501 Not Implemented: Transfer-Encoding \(codings) is not supported; send chunked or a Content-Length\"}"
        )
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        var clock = HTTPDate.Clock()
        headers.add(name: "Date", value: clock.now())
        headers.add(name: "Server", value: "Wheelhouse")
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .notImplemented, headers: headers))), promise: nil)
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
