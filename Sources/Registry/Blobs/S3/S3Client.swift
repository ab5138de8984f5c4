import AWSSigV4
import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One exchange with the bucket that did not succeed.
enum S3Failure: Error, CustomStringConvertible {
    /// No connection: refused, reset, a name that does not resolve.
    case unreachable(String)
    /// No connection or no answer within the deadline.
    case timedOut
    /// An error answer of the store, with S3's error code (`NoSuchBucket`, `SignatureDoesNotMatch`, ...).
    case refused(status: Int, code: String, message: String)

    var description: String {
        switch self {
        case .unreachable(let reason): reason
        case .timedOut: "timed out"
        case .refused(let status, let code, let message):
            switch code {
            case "NoSuchBucket": "no such bucket"
            case "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "InvalidToken", "ExpiredToken":
                "access denied (\(code))"
            default: message.isEmpty ? "HTTP \(status) \(code)" : "HTTP \(status) \(code): \(message)"
            }
        }
    }

    /// Worth another attempt of an idempotent request: the store was briefly away or busy.
    var isTransient: Bool {
        switch self {
        case .unreachable: true
        case .timedOut: false  // a retry would double the wait; the client retries the 503 instead
        case .refused(let status, _, _): status == 500 || status == 502 || status == 503 || status == 504
        }
    }
}

/// Signed HTTP requests to one bucket, with deadlines and retries: the only code that talks to S3.
///
/// Deadlines: a connection within `connectTimeout`; an answer's head within `answerTimeout`, plus a
/// second per MiB the request sends; after that, no pause in a body longer than `idleReadTimeout`.
/// Idempotent requests (all of S3's but the multipart start) are tried up to
/// `attempts` times when the store is unreachable or answers 500/502/503/504.
final class S3Client: Sendable {
    static let connectTimeout = TimeAmount.seconds(3)
    static let answerTimeout = TimeAmount.seconds(10)
    static let idleReadTimeout = TimeAmount.seconds(10)
    static let attempts = 3
    static let retryDelays: [Duration] = [.milliseconds(200), .milliseconds(600)]

    let configuration: S3Configuration
    private let signer: SigV4Signer
    private let http: HTTPClient
    /// Downloads streamed to clients: a pool of their own (a long download holds a connection, and
    /// must not keep uploads and metadata reads waiting), with no read timeout (`S3BodyStream`
    /// keeps its own, which does not run while a slow client holds the connection paused).
    private let streaming: HTTPClient
    private let logger: Logger

    init(configuration: S3Configuration, logger: Logger) {
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "s3")
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: Self.connectTimeout, read: Self.idleReadTimeout),
            decompression: .disabled
        )
        // Downloads stream from the bucket while clients read them: enough connections for many at once.
        http.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // A refused connection fails the attempt at once; `send` retries on its own schedule (the
        // pool's own retries would hold the request until its deadline: 10 s per call to a store that is down).
        http.connectionPool.retryConnectionEstablishment = false
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        var streaming = http
        streaming.timeout = .init(connect: Self.connectTimeout, read: nil)
        streaming.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        streaming.connectionPool.retryConnectionEstablishment = false
        self.streaming = HTTPClient(eventLoopGroupProvider: .singleton, configuration: streaming)
        // At trace, AsyncHTTPClient logs the parts of answers, and an S3 error answer can echo the
        // canonical request with the session token in it: never below debug here.
        var logger = logger
        if logger.logLevel < .debug { logger.logLevel = .debug }
        self.logger = logger
    }

    func shutdown() async throws {
        try await self.http.shutdown()
        try await self.streaming.shutdown()
    }

    /// One S3 request.
    struct Call: Sendable {
        var method: HTTPMethod
        /// The object's key, or nil for the bucket itself.
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var payload: PayloadSigning = .emptyBody
        /// Makes the body anew for each attempt.
        var body: (@Sendable () throws -> HTTPClientRequest.Body)?
        var bodyLength: Int64 = 0
        var idempotent = true
        /// Statuses besides 2xx that the caller handles itself (404, for instance).
        var accepting: Set<Int> = []
    }

    /// Sends `call` and returns the answer when it is a 2xx or one of `call.accepting`; any other
    /// answer throws `S3Failure.refused` with S3's error code.
    func send(_ call: Call) async throws -> HTTPClientResponse {
        try await self.retrying(call) { try await self.attempt(call) }
    }

    /// Runs `attempt` up to `attempts` times while it fails transiently and `call` is idempotent.
    private func retrying<Answer>(_ call: Call, _ attempt: () async throws -> Answer) async throws -> Answer {
        var tried = 1
        while true {
            do {
                return try await attempt()
            } catch let failure as S3Failure where failure.isTransient && call.idempotent && tried < Self.attempts {
                self.logger.debug(
                    "retrying an S3 request",
                    metadata: ["method": "\(call.method.rawValue)", "key": "\(call.key ?? "")", "error": "\(failure)"]
                )
                try await Task.sleep(for: Self.retryDelays[tried - 1])
                tried += 1
            }
        }
    }

    /// S3's error answer (a small XML document; none for HEAD) as `S3Failure.refused`.
    private static func refusal(status: Int, body: String) -> S3Failure {
        let code = S3XML.text("Code", in: body[...]) ?? (status == 404 ? "NotFound" : status == 403 ? "AccessDenied" : "HTTP\(status)")
        return S3Failure.refused(status: status, code: code, message: S3XML.text("Message", in: body[...]) ?? "")
    }

    /// The URL and the headers of `call`, signed now.
    private func signed(_ call: Call) -> (url: String, headers: HTTPHeaders) {
        let (host, path) = self.configuration.address(ofKey: call.key)
        let query = SigV4Encoding.canonicalQuery(call.query)
        let toSign: [(name: String, value: String)] = [("host", host)] + call.headers
        let signable = SignableRequest(method: call.method.rawValue, path: path, query: call.query, headers: toSign)
        let now = AmzDate(secondsSince1970: Int64(time(nil)))
        var headers = HTTPHeaders()
        for (name, value) in call.headers + self.signer.signedHeaders(for: signable, payload: call.payload, at: now) {
            headers.add(name: name, value: value)
        }
        return ("\(self.configuration.scheme)://\(host)\(path)\(query.isEmpty ? "" : "?" + query)", headers)
    }

    /// A GET whose body is read into `S3BodyStream`'s deeper buffer (downloads); answers other than
    /// 2xx and `call.accepting` throw as `send` does, with the same retries.
    func stream(_ call: Call) async throws -> (status: Int, stream: S3BodyStream) {
        try await self.retrying(call) { try await self.streamAttempt(call) }
    }

    private func streamAttempt(_ call: Call) async throws -> (status: Int, stream: S3BodyStream) {
        let (url, headers) = self.signed(call)
        let request = try HTTPClient.Request(url: url, method: call.method, headers: headers)
        let eventLoop = self.streaming.eventLoopGroup.any()
        let stream = S3BodyStream(eventLoop: eventLoop)
        // No deadline on the task: it would cut a long download; the head has `answerTimeout`, and
        // the body the client's idle read timeout.
        let task = self.streaming.execute(request: request, delegate: stream, eventLoop: .delegate(on: eventLoop), logger: self.logger)
        stream.demand.onTerminate { task.cancel() }
        let timedOut = NIOLockedValueBox(false)
        let timeout = eventLoop.scheduleTask(in: Self.answerTimeout) {
            timedOut.withLockedValue { $0 = true }
            task.cancel()
            // A task refused before it reached the delegate (a client shut down) would never end the wait.
            stream.head.fail(HTTPClientError.deadlineExceeded)
        }
        let head: HTTPResponseHead
        do {
            head = try await stream.head.futureResult.get()
            timeout.cancel()
        } catch {
            timeout.cancel()
            throw timedOut.withLockedValue { $0 } ? S3Failure.timedOut : Self.failure(from: error)
        }
        let status = Int(head.status.code)
        if (200..<300).contains(status) || call.accepting.contains(status) { return (status, stream) }
        var body = ByteBuffer()
        for try await var chunk in stream.chunks where body.readableBytes < 64 * 1024 { body.writeBuffer(&chunk) }
        throw Self.refusal(status: status, body: String(buffer: body))
    }

    /// A connection-level error as an `S3Failure`.
    private static func failure(from error: any Error) -> any Error {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            return S3Failure.timedOut
        case let error as HTTPClientError where error == .remoteConnectionClosed || error == .cancelled:
            return S3Failure.unreachable("the connection was closed")
        case is CancellationError:
            return error
        default:
            return S3Failure.unreachable(Self.describeConnectionFailure(error))
        }
    }

    private func attempt(_ call: Call) async throws -> HTTPClientResponse {
        let (url, headers) = self.signed(call)
        var request = HTTPClientRequest(url: url)
        request.method = call.method
        request.headers = headers
        if let body = call.body { request.body = try body() }
        let deadline = NIODeadline.now() + Self.answerTimeout + .seconds(call.bodyLength / (1024 * 1024))
        let response: HTTPClientResponse
        do {
            response = try await self.http.execute(request, deadline: deadline, logger: self.logger)
        } catch {
            throw Self.failure(from: error)
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) || call.accepting.contains(status) { return response }
        let body = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
        throw Self.refusal(status: status, body: body)
    }

    /// "connection refused" rather than a type name, for the one line `serve` prints.
    private static func describeConnectionFailure(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("refused") || text.contains("ECONNREFUSED") { return "connection refused" }
        if text.contains("reset") { return "connection reset" }
        if text.contains("resolve") || text.contains("NXDOMAIN") || text.contains("nodename") { return "the endpoint's name does not resolve" }
        return text
    }

    /// A presigned GET of `key` valid for `seconds`, with `query` (such as
    /// `response-content-disposition`) signed along.
    func presignedGET(key: String, query: [(name: String, value: String)], expiresInSeconds seconds: Int) -> String {
        let (host, path) = self.configuration.address(ofKey: key)
        let request = SignableRequest(method: "GET", path: path, query: query, headers: [("host", host)])
        let signed = self.signer.presignedQuery(for: request, expiresInSeconds: seconds, at: AmzDate(secondsSince1970: Int64(time(nil))))
        return "\(self.configuration.scheme)://\(host)\(path)?\(signed)"
    }
}
