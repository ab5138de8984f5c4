import Hummingbird
import Registry

/// How every refusal looks on the wire: the message in the reason phrase (twine shows it) and in a
/// JSON body `{"message": ...}` (uv reads it), with GitLab's status codes.
enum ErrorResponse {
    static let realm = "Basic realm=\"Wheelhouse\""

    static func make(_ error: RegistryError) -> Response {
        switch error {
        case .unauthenticated:
            var response = self.make(status: .unauthorized, message: "401 Unauthorized")
            response.headers[.wwwAuthenticate] = self.realm
            return response
        case .notFound(let message):
            return self.make(status: .notFound, message: message)
        case .forbidden(let message):
            return self.make(status: .forbidden, message: message)
        case .invalid(let message), .conflict(let message):
            return self.make(status: .badRequest, message: message)
        case .tooLarge(let message):
            return self.make(status: .contentTooLarge, message: message)
        case .unavailable(let message):
            var response = self.make(status: .serviceUnavailable, message: "503 Service Unavailable: \(message)")
            response.headers[.retryAfter] = "5"
            return response
        case .unsupportedSchema:
            return self.make(status: .internalServerError, message: "500 Internal Server Error")
        }
    }

    static func make(status: HTTPResponse.Status, message: String) -> Response {
        RESTResponse.json(
            .object([("message", .string(message))]), status: status,
            headers: [ReasonPhrase.header: ReasonPhrase.sanitize(message)]
        )
    }

    /// 405, with the methods the path does answer.
    static func methodNotAllowed(allowed: [HTTPRequest.Method]) -> Response {
        var response = self.make(status: .methodNotAllowed, message: "405 Method Not Allowed")
        response.headers[.allow] = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return response
    }
}

