import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import Registry
import WireHTTP1

/// The outermost middleware: gives the request its id (`X-Request-Id`, in the answer and in every
/// log line written while it is answered), turns every error into its response (each error type
/// renders its own; anything else is a 500, logged), counts it by route, and logs one line per
/// request: method, path, route, status, caller and milliseconds. Never a secret: the path
/// without its query, the caller by name or token id.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let logger: Logger
    let observability: ServerObservability

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = RequestID.accepting(request.headers[Self.requestIDField]) ?? self.observability.requestIDs.next()
        var response = try await RequestLogContext.$requestID.withValue(requestID) {
            try await self.answer(request, context: context, started: started, next: next)
        }
        response.headers[Self.requestIDField] = requestID
        return response
    }

    static let requestIDField = HTTPField.Name(RequestID.headerName)!

    private func answer(
        _ request: Request,
        context: Context,
        started: ContinuousClock.Instant,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
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
        let duration = ContinuousClock.now - started
        self.count(request, response, context: context, duration: duration)
        self.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: [
                "caller": "\(context.caller.principal.logDescription)", "route": "\(context.caller.route)",
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible(duration.milliseconds),
            ]
        )
        return response
    }

    /// The request under its route; a file served (in whole or in part, not a HEAD) as a download
    /// of the bytes its answer carries.
    private func count(_ request: Request, _ response: Response, context: Context, duration: Duration) {
        self.observability.http.record(
            route: context.caller.route,
            method: request.method.rawValue,
            status: response.status.code,
            duration: duration
        )
        if context.caller.isDownload, request.method == .get, response.status == .ok || response.status == .partialContent {
            self.observability.metrics.downloads.increment()
            if let length = response.headers[.contentLength].flatMap(Int64.init) { self.observability.metrics.downloadBytes.increment(by: length) }
        }
    }

    /// One line for a request whose client left before its body ended; the answer returned goes
    /// nowhere (its connection is closed).
    private func logAbort(_ request: Request, context: Context, started: ContinuousClock.Instant, receivedBytes: Int64?) -> Response {
        let duration = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "caller": "\(context.caller.principal.logDescription)", "route": "\(context.caller.route)", "method": "\(request.method)",
            "path": "\(request.uri.path)", "status": .stringConvertible(400), "duration_ms": .stringConvertible(duration.milliseconds),
        ]
        if let receivedBytes { metadata["received_bytes"] = "\(receivedBytes)" }
        self.logger.info("\(request.method) \(request.uri.path) aborted by the client before its body ended", metadata: metadata)
        self.observability.http.record(route: context.caller.route, method: request.method.rawValue, status: 400, duration: duration)
        return ErrorResponse.make(status: .badRequest, message: "400 Bad Request: the request body ended early")
    }

    private static var internalError: Response {
        ErrorResponse.make(status: .internalServerError, message: "500 Internal Server Error")
    }
}
