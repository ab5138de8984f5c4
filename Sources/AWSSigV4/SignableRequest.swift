/// The parts of an HTTP request that Signature Version 4 covers.
public struct SignableRequest: Sendable {
    public var method: String
    /// The path exactly as it goes on the request line: already percent-encoded (see
    /// `SigV4Encoding.encodePath`), starting with `/`.
    public var path: String
    /// The query's names and values, not encoded: the signer encodes them, and a client sends
    /// `SigV4Encoding.canonicalQuery(query)` so that what goes on the wire is what was signed.
    public var query: [(name: String, value: String)]
    /// The headers to sign, `host` among them; names in any case. Headers added after signing
    /// (such as `user-agent`) are simply not named here.
    public var headers: [(name: String, value: String)]

    public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }
}

/// What the signature says of the request's body (`x-amz-content-sha256`).
public enum PayloadSigning: Sendable, Equatable {
    /// The lowercase hex sha256 of the body: S3 refuses a body that does not match it.
    case sha256(String)
    /// `UNSIGNED-PAYLOAD`: the body is not covered (presigned URLs; streamed parts hashed elsewhere).
    case unsigned

    /// The sha256 of an empty body, for GET, HEAD and DELETE.
    public static let emptyBody = PayloadSigning.sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

    var canonicalValue: String {
        switch self {
        case .sha256(let hex): return hex
        case .unsigned: return "UNSIGNED-PAYLOAD"
        }
    }
}
