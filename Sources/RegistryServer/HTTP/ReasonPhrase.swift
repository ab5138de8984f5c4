import HTTPTypes
import NIOCore
import NIOHTTP1

/// Clients such as twine show the HTTP reason phrase of a refused upload, so Wheelhouse puts its
/// message there. NIO's HTTP/1 conversion maps every known status code back to its standard phrase,
/// so the message travels in an internal header to `Writer`, below that conversion, where it becomes
/// the reason phrase and the header is dropped.
enum ReasonPhrase {
    static let headerName = "Wheelhouse-Reason"
    static let header = HTTPField.Name(headerName)!

    /// A reason phrase may hold only visible ASCII, space and tab; anything else becomes `?`, and it is
    /// kept short. GitLab-style messages that start with their status code ("404 Project Not Found")
    /// lose the code, which the status line already has.
    static func sanitize(_ message: String) -> String {
        var message = Substring(message)
        if message.count > 4, message.prefix(3).allSatisfy(\.isNumber), message.dropFirst(3).first == " " {
            message = message.dropFirst(4)
        }
        return String(String.UnicodeScalarView(message.unicodeScalars.prefix(200).map {
            ($0.value >= 0x20 && $0.value < 0x7F) || $0 == "\t" ? $0 : "?"
        }))
    }

    /// Moves the internal header into the reason phrase of the HTTP/1 response head.
    final class Writer: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            // Only refusals carry a message; a success is passed on without a look at its headers.
            guard case .head(var head) = self.unwrapOutboundIn(data), head.status.code >= 400,
                  let reason = head.headers.first(name: ReasonPhrase.headerName)
            else {
                context.write(data, promise: promise)
                return
            }
            head.headers.remove(name: ReasonPhrase.headerName)
            head.status = .custom(code: head.status.code, reasonPhrase: reason)
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
        }
    }
}
