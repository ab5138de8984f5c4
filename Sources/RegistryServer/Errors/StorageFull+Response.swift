import Hummingbird
import Registry

/// A full disk refuses the upload with WebDAV's 507 Insufficient Storage, as GitLab's object
/// storage does: not a 500 (nothing is broken, and nothing was kept) and not a 503 with a retry
/// hint (retrying fails the same way until an operator frees space).
extension StorageFull: HTTPResponseError {
    public var status: HTTPResponse.Status { .insufficientStorage }

    public func response(from request: Request, context: some RequestContext) -> Response {
        ErrorResponse.make(status: .insufficientStorage, message: Self.message)
    }
}

extension HTTPResponse.Status {
    /// RFC 4918's 507, which swift-http-types does not name.
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
}
