import Hummingbird
import Registry

/// Finds out who is calling, for the routes that care: the credential a request presents (any of
/// GitLab's ways) and the principal it makes the caller. An unreadable `Authorization` header and
/// unknown, expired or revoked tokens are 401. Reads may use a token lookup made a moment ago (or,
/// while the database is away, the last one); writes always ask the database.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.route?.identifiesCaller ?? false else { return try await next(request, context) }
        let credential: Credential?
        do { credential = try CredentialExtraction.credential(from: request.headers) } catch {
            throw RegistryError.unauthenticated
        }
        let reading = request.method == .get || request.method == .head
        var context = context
        context.principal = try await self.authenticator.authenticate(credential, forReading: reading)
        context.credential = credential
        context.caller.principal = context.principal
        return try await next(request, context)
    }
}

extension APIRoute {
    /// Whether the answer depends on who asks (the landing page and the health check do not).
    var identifiesCaller: Bool {
        switch self {
        case .landing, .health: false
        case .pypi, .rest: true
        }
    }
}
