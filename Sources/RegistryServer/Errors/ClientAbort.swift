import Hummingbird
import NIOHTTP1

/// The client went away (closed its connection, or was cut off by a deadline) before its request's
/// body had all arrived. Nobody is left to answer and nothing is wrong with the server, so it is
/// logged as an abort with what had arrived, never as a 500.
struct ClientAbort: Error {
    /// Body bytes received before the end, where the handler counted them.
    var receivedBytes: Int64?

    /// Whether `error`, thrown while a request body was read, means the connection ended early:
    /// NIO's decoder reports a connection that closed inside a body as `invalidEOFState`.
    static func isConnectionEnd(_ error: any Error) -> Bool {
        (error as? HTTPParserError) == .invalidEOFState
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
