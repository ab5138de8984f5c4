import Hummingbird
import Registry

/// Finds out who is calling, for the routes that care: the credential a request presents (any of
/// GitLab's ways) and the principal it makes the caller. An unreadable `Authorization` header and
/// unknown, expired or revoked tokens are 401. Reads may use a token lookup made a moment ago (or,
/// while the database is away, the last one); writes always ask the database.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let authenticator: Authenticator
    /// A browser's session also signs in reads of the PyPI API (the download links of a private
    /// project's pages); never a write, so no form token is needed there.
    let sessions: WebSessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.route?.identifiesCaller ?? false else { return try await next(request, context) }
        let credential: Credential?
        do { credential = try CredentialExtraction.credential(from: request.headers) } catch {
            throw RegistryError.unauthenticated
        }
        let reading = request.method == .get || request.method == .head
        var context = context
        if credential == nil, reading, case .pypi = context.route, let id = Cookies.value(Cookies.session, in: request.headers),
            let user = try await self.sessions.user(forSession: id)
        {
            context.principal = .user(user, scopes: [.api])
        } else {
            context.principal = try await self.authenticator.authenticate(credential, forReading: reading)
        }
        context.credential = credential
        context.caller.principal = context.principal
        return try await next(request, context)
    }
}

extension APIRoute {
    /// Whether the answer depends on who asks through the API's credentials (the health check does
    /// not; pages find their visitor from the session cookie themselves).
    var identifiesCaller: Bool {
        switch self {
        case .web, .health, .liveness, .readiness, .metrics: false
        case .pypi, .rest: true
        }
    }
}
