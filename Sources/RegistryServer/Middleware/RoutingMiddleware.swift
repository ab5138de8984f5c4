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
        context.route = try self.router.route(request.method, request.uri.path)
        context.replayGeneration = self.replay.generation
        return try await next(request, context)
    }
}
