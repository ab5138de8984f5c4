import Hummingbird
import Registry

/// What a request asks for, as `APIRouter` found it.
enum APIRoute: Sendable {
    /// A page of the web interface (`/`, `/<group>`, `/<project>/-/packages/<name>`, `/users/sign_in`, ...).
    case web(WebRoute)
    /// `/-/health`, any method.
    case health
    /// `/-/liveness` (GitLab's path): 200 while the process serves.
    case liveness
    /// `/-/readiness` (GitLab's path): whether the database and the blob store work.
    case readiness
    /// `/-/metrics`: Prometheus' text format, to the monitoring allowlist only.
    case metrics
    /// GitLab's PyPI API, the hot path: matched first, by a parser of its own.
    case pypi(PyPIRoute)
    /// The rest of GitLab's REST API under `/api/v4`, from `RESTRouter`'s table.
    case rest(RESTRouter.Route, parameters: [String: String])
}

/// The one router for everything Wheelhouse answers. Routing is done on the raw path (not by
/// Hummingbird's router) because GitLab ids may be URL-encoded full paths whose `%2F` must not
/// split a segment. Unknown paths are 404 and known paths with the wrong method 405, both before
/// any credential is looked at.
struct APIRouter: Sendable {
    let rest: RESTRouter

    func route(_ method: HTTPRequest.Method, _ path: String) throws -> APIRoute {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.count == 2, segments[0] == "-" {
            if segments[1] == "health" { return .health }
            if let route = Self.operations(segments[1]) {
                guard method == .get || method == .head else { throw MethodNotAllowed(allowed: [.get, .head]) }
                return route
            }
        }
        if let route = PyPIRoute(rawSegments: segments) {
            guard route.endpoint.methods.contains(method) else { throw MethodNotAllowed(allowed: route.endpoint.methods) }
            return .pypi(route)
        }
        guard segments.first == "api" else {
            guard let route = WebRoute(method: method, segments: Array(segments)) else { throw RegistryError.notFound("404 Not Found") }
            return .web(route)
        }
        guard segments.count > 2, segments[1] == "v4" else { throw RegistryError.notFound("404 Not Found") }
        switch self.rest.match(method: method, rawSegments: Array(segments.dropFirst(2))) {
        case .none:
            throw RegistryError.notFound("404 Not Found")
        case .wrongMethod(let allowed):
            throw MethodNotAllowed(allowed: allowed)
        case .found(let route, let parameters):
            return .rest(route, parameters: parameters)
        }
    }

    /// The operators' endpoints under `/-/` besides `/-/health`.
    private static func operations(_ name: Substring) -> APIRoute? {
        switch name {
        case "liveness": .liveness
        case "readiness": .readiness
        case "metrics": .metrics
        default: nil
        }
    }
}
