import Hummingbird
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client went away (closed its connection, or was cut off by a deadline) before its request's
/// body had all arrived. Nobody is left to answer and nothing is wrong with the server, so it is
/// logged as an abort with what had arrived, never as a 500.
struct ClientAbort: Error {
    /// Body bytes received before the end, where the handler counted them.
    var receivedBytes: Int64?

    /// Whether `error`, thrown while a request body was read, means the connection ended early:
    /// NIO's decoder reports a connection closed inside a body as `invalidEOFState`; a reset
    /// (Windows clients, proxies, NAT timeouts) comes as the socket's own error.
    static func isConnectionEnd(_ error: any Error) -> Bool {
        if let error = error as? HTTPParserError { return error == .invalidEOFState }
        if let error = error as? IOError { return [ECONNRESET, EPIPE, ETIMEDOUT].contains(error.errnoCode) }
        switch error as? ChannelError {
        case .ioOnClosedChannel?, .eof?, .inputClosed?, .outputClosed?, .alreadyClosed?: return true
        default: return false
        }
    }

    /// What an error thrown by a request body's stream means for its answer: the client left (an
    /// abort), its framing was broken (a 400), or something else (as it is).
    static func reading(_ error: any Error, receivedBytes: Int64?) -> any Error {
        if Self.isConnectionEnd(error) { return ClientAbort(receivedBytes: receivedBytes) }
        if let error = error as? HTTPParserError { return MalformedRequestBody(parserError: error) }
        return error
    }
}

/// A request body whose framing NIO's decoder could not read (a chunk size of `zz`, a trailer
/// past the header limit): the client's fault, a 400, and the connection cannot go on.
struct MalformedRequestBody: HTTPResponseError {
    var parserError: HTTPParserError

    var status: HTTPResponse.Status { .badRequest }

    func response(from request: Request, context: some RequestContext) -> Response {
        var response = ErrorResponse.make(status: .badRequest, message: "400 Bad Request: malformed request body (\(self.parserError))")
        response.headers[.connection] = "close"
        return response
    }
}
