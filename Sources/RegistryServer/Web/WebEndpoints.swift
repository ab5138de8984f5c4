import Hummingbird
import Logging
import Registry
import SafeHTML

/// The web interface: finds out who the visitor is (session cookie), checks every POST's form
/// token and origin, runs the page's handler, and turns refusals into pages (a page the visitor
/// may not see is a 404, as in the API, with a sign-in prompt for anonymous visitors).
struct WebEndpoints: Sendable {
    let services: RegistryServices
    let externalURL: String?
    let logger: Logger
    /// Package pages' content (README rendered and sanitised included), per release, for maintainers
    /// and for everyone else, kept until the project's packages change.
    let packageMains: VersionedCache<String>

    init(services: RegistryServices, externalURL: String?, metrics: RegistryMetrics = .disabled, logger: Logger) {
        self.services = services
        self.externalURL = externalURL
        self.logger = logger
        self.packageMains = VersionedCache<String>(capacity: 128, counting: metrics.webPages)
    }

    /// Cookies get `Secure` when the registry is served over https.
    var secureCookies: Bool { self.externalURL?.lowercased().hasPrefix("https://") ?? false }

    /// A refusal that renders as a page.
    struct PageError: Error {
        var status: HTTPResponse.Status
        var title: String
        var text: String
        var headers: HTTPFields = [:]
    }

    func respond(to route: WebRoute, _ request: Request, context: RegistryRequestContext, root: String) async throws -> Response {
        let isHead = request.method == .head
        switch route {
        case .stylesheet: return WebResponse.asset(Assets.stylesheet, contentType: "text/css; charset=utf-8", isHead: isHead)
        case .script: return WebResponse.asset(Assets.script, contentType: "text/javascript; charset=utf-8", isHead: isHead)
        case .cspReport: return try await self.cspReport(request, context: context)
        default: break
        }
        var visitor = try await WebVisitor.identify(request, sessions: self.services.webSessions)
        do {
            var form: FormBody?
            if request.method == .post, route.changesState {
                try self.checkOrigin(request, root: root)
                let body = try await FormBody.read(request)
                guard visitor.accepts(formToken: body["authenticity_token"]) else {
                    throw PageError(status: .forbidden, title: "Forbidden", text: "Invalid or missing form token: reload the page and try again.")
                }
                form = body
            }
            let call = WebCall(request: request, context: context, visitor: visitor, form: form, urls: IndexURLs(root: root))
            return try await self.dispatch(route, call)
        } catch let error as PageError {
            var response = WebResponse.page(
                FormPages.message(visitor: visitor, title: error.title, text: error.text),
                status: error.status,
                visitor: visitor,
                secure: self.secureCookies,
                isHead: isHead
            )
            for field in error.headers { response.headers.append(field) }
            return response
        } catch let error as RegistryError {
            return self.page(for: error, request: request, visitor: visitor)
        }
    }

    private func dispatch(_ route: WebRoute, _ call: WebCall) async throws -> Response {
        switch route {
        case .home: return try await self.home(call)
        case .search: return try await self.search(call)
        case .namespace(let path): return try await self.namespace(path, call)
        case .package(let project, let name, let version): return try await self.package(project: project, name: name, version: version, call)
        case .packageAction(let project, let name, let version, let action):
            return try await self.packageAction(action, project: project, name: name, version: version, call)
        case .signIn: return call.request.method == .post ? try await self.signIn(call) : self.signInForm(call)
        case .signOut: return try await self.signOut(call)
        case .tokens: return call.request.method == .post ? try await self.createToken(call) : try await self.tokens(call)
        case .revokeToken(let id): return try await self.revokeToken(id, call)
        case .stylesheet, .script, .cspReport: throw RegistryError.notFound("404 Not Found")
        }
    }

    /// A page for `html` with this server's cookie rules.
    func page(_ html: String, status: HTTPResponse.Status = .ok, _ call: WebCall) -> Response {
        WebResponse.page(html, status: status, visitor: call.visitor, secure: self.secureCookies, isHead: call.request.method == .head)
    }

    /// The page of a refusal from the registry's rules, with the status the API would give.
    private func page(for error: RegistryError, request: Request, visitor: WebVisitor) -> Response {
        let status: HTTPResponse.Status
        let title: String
        let text: String
        var prompt: String?
        switch error {
        case .unauthenticated, .notFound:
            (status, title, text) = (.notFound, "Page not found", "There is nothing here, or nothing you may see.")
            if visitor.user == nil { prompt = request.uri.path }
        case .forbidden:
            (status, title, text) = (.forbidden, "Forbidden", "Your role does not allow this.")
        case .invalid(let message), .conflict(let message):
            (status, title, text) = (.badRequest, "Cannot do that", message)
        case .tooLarge(let message):
            (status, title, text) = (.contentTooLarge, "Too large", message)
        case .unavailable:
            (status, title, text) = (.serviceUnavailable, "Unavailable", "The registry's database cannot be reached just now: try again in a moment.")
        case .upstreamFailed, .upstreamTimedOut, .unsupportedSchema:
            (status, title, text) = (.badGateway, "Unavailable", error.description)
        }
        var response = WebResponse.page(
            FormPages.message(visitor: visitor, title: title, text: text, signInPrompt: prompt),
            status: status,
            visitor: visitor,
            secure: self.secureCookies,
            isHead: request.method == .head
        )
        if status == .serviceUnavailable { response.headers[.retryAfter] = "5" }
        return response
    }

    /// A form posted from another site is refused (on top of the form token and SameSite cookies).
    private func checkOrigin(_ request: Request, root: String) throws {
        guard let origin = request.headers[.origin] else { return }
        let authority = request.head.authority ?? ""
        // An origin is scheme://host[:port]: the external URL's path (if any) is not part of it.
        let rootOrigin = root.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).prefix(3).joined(separator: "/")
        let allowed = [rootOrigin, "http://" + authority, "https://" + authority].map { $0.lowercased() }
        guard allowed.contains(origin.lowercased()) else {
            throw PageError(status: .forbidden, title: "Forbidden", text: "This form was sent from another site.")
        }
    }

    /// `POST /-/csp-report`: a browser reporting a blocked script or resource, logged so that an
    /// attempt (a hostile README) shows in the server's log.
    private func cspReport(_ request: Request, context: RegistryRequestContext) async throws -> Response {
        let body = try await BoundedBody.collect(request, upTo: 64 * 1024, for: "a CSP report")
        let text = String(decoding: body.readableBytesView.prefix(2048), as: UTF8.self)
        self.logger.warning("content security policy violation", metadata: ["report": "\(LogText.sanitised(text))"])
        var headers = HTTPFields()
        WebResponse.securityHeaders(&headers)
        return Response(status: .noContent, headers: headers)
    }
}

/// One page request, as its handler sees it.
struct WebCall: Sendable {
    let request: Request
    let context: RegistryRequestContext
    let visitor: WebVisitor
    /// The POSTed form, its token already checked.
    let form: FormBody?
    let urls: IndexURLs

    var principal: Principal { self.visitor.principal }

    /// The value of a query parameter.
    func query(_ name: String) -> String? { (try? FormBody(self.request.uri.query ?? ""))?[name] }
}
