import Hummingbird
import Logging
import Registry

/// The outermost middleware: turns every error into its response (each error type renders its
/// own; anything else is a 500, logged) and logs one line per request: method, path, status, caller
/// and milliseconds. Never a secret: the path without its query, the caller by name or token id.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            // Hummingbird's own (a body over `collect(upTo:)`'s limit), in the shape of ours.
            response = ErrorResponse.make(status: error.status, message: error.body ?? "\(error.status.code) \(error.status.reasonPhrase)")
        } catch let error as any HTTPResponseError {
            response = (try? error.response(from: request, context: context)) ?? Self.internalError
        } catch {
            self.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Self.internalError
        }
        let elapsed = ContinuousClock.now - started
        self.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: [
                "caller": "\(context.caller.principal.logDescription)",
                "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ]
        )
        return response
    }

    private static var internalError: Response {
        ErrorResponse.make(status: .internalServerError, message: "500 Internal Server Error")
    }
}
