import Hummingbird
import WireHTTP1

/// Finds the route (404 and 405 are decided here, before any credential is read) and notes the
/// replay generation the answer will be marked with.
struct RoutingMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let router: APIRouter
    let replay: ReplayCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let route = try self.router.route(request.method, request.uri.path)
        context.route = route
        context.caller.route = route.label
        if case .pypi(let pypi) = route, case .read(let read) = pypi.endpoint {
            switch read {
            case .file, .coreMetadata: context.caller.isDownload = true
            case .index, .package: break
            }
        }
        context.replayGeneration = self.replay.generation
        return try await next(request, context)
    }
}
