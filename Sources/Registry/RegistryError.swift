/// Everything the registry refuses, as values; the HTTP layer and the CLI turn them into status codes
/// and messages.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No credentials, or credentials that are unknown, expired or revoked.
    case unauthenticated
    /// The caller cannot see the thing (or it does not exist).
    case notFound(String)
    /// The caller can see the thing but lacks the role or the token scope.
    case forbidden(String)
    /// The request is malformed or breaks a rule.
    case invalid(String)
    /// A name or path that is taken.
    case conflict(String)
    /// An upload larger than the configured limit.
    case tooLarge(String)
    /// The database cannot be reached for now (PostgreSQL down or restarting); worth retrying.
    case unavailable(String)
    /// The upstream index failed (unreachable, a 5xx, garbage, a file that does not match its hash).
    case upstreamFailed(String)
    /// The upstream index did not answer in time.
    case upstreamTimedOut(String)
    /// The database holds a schema newer than this binary knows.
    case unsupportedSchema(found: Int, known: Int)

    public var description: String {
        switch self {
        case .unauthenticated: "Unauthorized"
        case .notFound(let message), .forbidden(let message), .invalid(let message),
            .conflict(let message), .tooLarge(let message), .unavailable(let message),
            .upstreamFailed(let message), .upstreamTimedOut(let message):
            message
        case .unsupportedSchema(let found, let known):
            "The database schema is version \(found) but this wheelhouse knows only up to \(known); upgrade wheelhouse"
        }
    }
}
