import Hummingbird
import Logging
import NIOHTTP1
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
        } catch let abort as ClientAbort {
            return self.logAbort(request, context: context, started: started, receivedBytes: abort.receivedBytes)
        } catch let error as HTTPParserError where ClientAbort.isConnectionEnd(error) {
            // A body read that did not classify its stream's errors itself: the same rules.
            return self.logAbort(request, context: context, started: started, receivedBytes: nil)
        } catch let error as HTTPParserError {
            response = MalformedRequestBody(parserError: error).response(from: request, context: context)
        } catch let error as HTTPError {
            // Hummingbird's own (a body over `collect(upTo:)`'s limit), in the shape of ours.
            response = ErrorResponse.make(status: error.status, message: error.body ?? "\(error.status.code) \(error.status.reasonPhrase)")
        } catch let error as any HTTPResponseError {
            response = (try? error.response(from: request, context: context)) ?? Self.internalError
        } catch {
            self.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Self.internalError
        }
        self.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: ["caller": "\(context.caller.principal.logDescription)", "ms": "\(Self.milliseconds(since: started))"]
        )
        return response
    }

    /// One line for a request whose client left before its body ended; the answer returned goes
    /// nowhere (its connection is closed).
    private func logAbort(_ request: Request, context: Context, started: ContinuousClock.Instant, receivedBytes: Int64?) -> Response {
        var metadata: Logger.Metadata = ["caller": "\(context.caller.principal.logDescription)", "ms": "\(Self.milliseconds(since: started))"]
        if let receivedBytes { metadata["received_bytes"] = "\(receivedBytes)" }
        self.logger.info("\(request.method) \(request.uri.path) aborted by the client before its body ended", metadata: metadata)
        return ErrorResponse.make(status: .badRequest, message: "400 Bad Request: the request body ended early")
    }

    private static func milliseconds(since started: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - started
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    private static var internalError: Response {
        ErrorResponse.make(status: .internalServerError, message: "500 Internal Server Error")
    }
}
