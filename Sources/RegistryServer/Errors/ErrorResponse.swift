import Hummingbird
import Registry
import WireHTTP1

/// How every refusal looks on the wire: the message in the reason phrase (twine shows it) and in a
/// JSON body `{"message": ...}` (uv reads it), with GitLab's status codes.
enum ErrorResponse {
    static let realm = "Basic realm=\"Wheelhouse\""

    static func make(status: HTTPResponse.Status, message: String) -> Response {
        var headers = HTTPFields()
        headers.setInternal(ReasonPhrase(message: message))
        // Refusals on page paths (a 404 for a path that names nothing) are seen by browsers too.
        headers[.pageContentTypeOptions] = "nosniff"
        headers[.pageFrameOptions] = "DENY"
        return RESTResponse.json(.object([("message", .string(message))]), status: status, headers: headers)
    }
}

/// Every refusal of the registry's rules renders itself, with GitLab's status codes.
extension RegistryError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch self {
        case .unauthenticated: .unauthorized
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .invalid, .conflict: .badRequest
        case .tooLarge: .contentTooLarge
        case .unavailable: .serviceUnavailable
        case .upstreamFailed: .badGateway
        case .upstreamTimedOut: .gatewayTimeout
        case .unsupportedSchema: .internalServerError
        }
    }

    public func response(from request: Request, context: some RequestContext) -> Response {
        switch self {
        case .unauthenticated:
            var response = ErrorResponse.make(status: .unauthorized, message: "401 Unauthorized")
            response.headers[.wwwAuthenticate] = ErrorResponse.realm
            return response
        case .notFound(let message), .forbidden(let message), .invalid(let message), .conflict(let message), .tooLarge(let message),
            .upstreamFailed(let message), .upstreamTimedOut(let message):
            return ErrorResponse.make(status: self.status, message: message)
        case .unavailable(let message):
            var response = ErrorResponse.make(status: .serviceUnavailable, message: "503 Service Unavailable: \(message)")
            response.headers[.retryAfter] = "5"
            return response
        case .unsupportedSchema:
            return ErrorResponse.make(status: .internalServerError, message: "500 Internal Server Error")
        }
    }
}

/// The path exists, but not for this method: 405, with the methods it does answer.
struct MethodNotAllowed: HTTPResponseError {
    var allowed: [HTTPRequest.Method]

    var status: HTTPResponse.Status { .methodNotAllowed }

    func response(from request: Request, context: some RequestContext) -> Response {
        var response = ErrorResponse.make(status: .methodNotAllowed, message: "405 Method Not Allowed")
        response.headers[.allow] = self.allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return response
    }
}

/// Nothing the client accepts can be served (PEP 691: 406).
struct NotAcceptable: HTTPResponseError {
    var status: HTTPResponse.Status { .notAcceptable }

    func response(from request: Request, context: some RequestContext) -> Response {
        ErrorResponse.make(
            status: .notAcceptable,
            message: "406 Not Acceptable: this index serves \(SimpleFormat.allCases.map(\.rawValue).joined(separator: ", "))"
        )
    }
}
