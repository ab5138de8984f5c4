import Hummingbird
import Logging
import Registry
import WireHTTP1

/// The whole HTTP surface, as one responder: the middleware (logging and error rendering, routing,
/// authentication) in front of the endpoints the route names.
struct RegistryResponder: HTTPResponder {
    typealias Context = RegistryRequestContext

    private let logging: RequestLogMiddleware
    private let routing: RoutingMiddleware
    private let authentication: AuthenticationMiddleware
    private let pypi: PyPIEndpoints
    private let web: WebEndpoints
    private let operations: OperationsEndpoints
    private let configuration: ServerConfiguration

    init(
        services: RegistryServices,
        replay: ReplayCache,
        configuration: ServerConfiguration,
        observability: ServerObservability,
        logger: Logger
    ) {
        self.logging = RequestLogMiddleware(logger: logger, observability: observability)
        self.operations = OperationsEndpoints(observability: observability)
        self.routing = RoutingMiddleware(router: APIRouter(rest: RESTRouter.make(services.management, settings: services.settings)), replay: replay)
        self.authentication = AuthenticationMiddleware(authenticator: services.authenticator, sessions: services.webSessions)
        self.web = WebEndpoints(services: services, externalURL: configuration.externalURL, metrics: observability.metrics, logger: logger)
        self.pypi = PyPIEndpoints(services: services, metrics: observability.metrics, maxUploadSize: configuration.maxUploadSize)
        self.configuration = configuration
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        try await self.logging.handle(request, context: context) { request, context in
            try await self.routing.handle(request, context: context) { request, context in
                try await self.authentication.handle(request, context: context, next: self.endpoint)
            }
        }
    }

    /// Answers the route `RoutingMiddleware` found, for the caller `AuthenticationMiddleware` found.
    private func endpoint(_ request: Request, context: Context) async throws -> Response {
        switch context.route {
        case .web(let route):
            return try await self.web.respond(
                to: route,
                request,
                context: context,
                root: String(self.baseURL(for: request).dropLast("/api/v4".count))
            )
        case .health:
            return Self.text("OK\n")
        case .liveness:
            return self.operations.liveness()
        case .readiness:
            return await self.operations.readiness()
        case .metrics:
            return try self.operations.metrics(remoteAddress: context.remoteAddress)
        case .pypi(let route):
            return try await self.pypi.respond(to: route, request, context: context, baseURL: self.baseURL(for: request))
        case .rest(let route, let parameters):
            if case .deployToken = context.principal, !route.acceptsDeployTokens { throw RegistryError.unauthenticated }
            let call = try await RESTCall.make(
                request,
                principal: context.principal,
                credential: context.credential,
                pathParameters: parameters,
                externalBase: String(self.baseURL(for: request).dropLast("/api/v4".count)),
                clientAddress: context.remoteAddress
            )
            return try await route.handler(call)
        case nil:
            throw RegistryError.notFound("404 Not Found")
        }
    }

    /// The URL prefix links are built on: the configured external URL, or this request's host.
    private func baseURL(for request: Request) -> String {
        if let external = self.configuration.externalURL { return external + "/api/v4" }
        let fallback = "\(self.configuration.host):\(self.configuration.port)"
        // Only a plausible host[:port] is echoed into links.
        let host =
            request.head.authority.flatMap { authority in
                authority.utf8.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x3A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
                } && !authority.isEmpty ? authority : nil
            } ?? fallback
        return "http://\(host)/api/v4"
    }

    static func text(_ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.contentLength] = String(body.utf8.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
