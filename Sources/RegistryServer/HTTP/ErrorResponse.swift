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
        case .unsupportedSchema:
            return self.make(status: .internalServerError, message: "500 Internal Server Error")
        }
    }

    static func make(status: HTTPResponse.Status, message: String) -> Response {
        let body = JSONValue.object([("message", .string(message))]).rendered + "\n"
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(body.utf8.count)
        headers[ReasonPhrase.header] = ReasonPhrase.sanitize(message)
        return Response(
            status: status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}

