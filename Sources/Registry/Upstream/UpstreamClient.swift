import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Why the upstream did not give what was asked: the gateway's answer is 502, or 504 when it timed out.
public enum UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Connection refused, name not resolved, TLS refused, connection cut.
    case unreachable(String)
    /// No connection within `UpstreamClient.connectTimeout`, or no answer within the deadline.
    case timedOut(String)
    /// An answer that cannot be used: a 5xx, an unexpected status, garbage, too large, a bad redirect,
    /// or a file whose bytes do not match its sha256.
    case badAnswer(String)

    public var description: String {
        switch self {
        case .unreachable(let why): "the upstream index cannot be reached: \(why)"
        case .timedOut(let why): "the upstream index did not answer in time: \(why)"
        case .badAnswer(let why): "the upstream index gave an unusable answer: \(why)"
        }
    }

    /// As the registry reports it.
    public var registryError: RegistryError {
        switch self {
        case .timedOut: .upstreamTimedOut("504 Gateway Timeout: \(self)")
        case .unreachable, .badAnswer: .upstreamFailed("502 Bad Gateway: \(self)")
        }
    }
}

/// Outbound HTTP to the upstream index: pages under a deadline, files as a stream. Redirects are
/// followed here (at most five, http and https only) so that credentials go only to the upstream's
/// own origin, never to a host it redirects to.
public final class UpstreamClient: Sendable {
    public static let connectTimeout = TimeAmount.seconds(5)
    /// A page, headers and body, must arrive within this; a file's bytes must never pause longer.
    public static let answerTimeout = TimeAmount.seconds(15)
    public static let maximumRedirects = 5
    /// Pages larger than this are refused (the public index's largest project pages are a few MiB).
    public static let maximumPageSize = 32 * 1024 * 1024

    /// After a host could not be reached (or timed out), requests to it fail at once for this long
    /// (one probe at a time goes through after it), so that a down upstream costs one connect
    /// timeout, not one per request: stale pages are served straight away.
    public static let retryInterval = Duration.seconds(10)

    private let http: HTTPClient
    let userAgent: String
    private let unreachable = UnreachableHosts(retryInterval: UpstreamClient.retryInterval)

    public init(userAgent: String) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: Self.connectTimeout, read: Self.answerTimeout),
            decompression: .disabled
        )
        configuration.httpVersion = .automatic
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.userAgent = userAgent
    }

    /// Forgets which hosts failed: after a settings change, the next request tries again at once.
    public func forgetFailures() {
        self.unreachable.forgetAll()
    }

    public func shutdown() async throws {
        try await self.http.shutdown()
    }

    /// An answer to a page request.
    enum PageAnswer: Sendable {
        case page(body: ByteBuffer, contentType: String, entityTag: String?, lastModified: String?, url: String)
        case notModified
        case notFound
    }

    /// Fetches a project page, asking for PEP 691 JSON and accepting HTML, conditionally when a
    /// validator is known.
    func page(_ url: String, from index: UpstreamIndex, entityTag: String?, lastModified: String?) async throws(UpstreamFailure) -> PageAnswer {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1")
        if let entityTag { headers.add(name: "If-None-Match", value: entityTag) }
        if let lastModified { headers.add(name: "If-Modified-Since", value: lastModified) }
        let deadline = NIODeadline.now() + Self.answerTimeout
        let (response, finalURL) = try await self.get(url, headers: headers, from: index, deadline: deadline)
        switch response.status.code {
        case 200:
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: Self.maximumPageSize)
            } catch let error as NIOTooManyBytesError {
                _ = error
                throw .badAnswer("the page of \(url) is larger than \(Self.maximumPageSize / 1024 / 1024) MiB")
            } catch {
                throw Self.failure(error, url: url)
            }
            return .page(
                body: body,
                contentType: response.headers.first(name: "Content-Type") ?? "text/html",
                entityTag: response.headers.first(name: "ETag"),
                lastModified: response.headers.first(name: "Last-Modified"),
                url: finalURL
            )
        case 304:
            return .notModified
        case 404, 410:
            return .notFound
        default:
            throw .badAnswer("\(url) answered \(response.status.code)")
        }
    }

    /// Starts a file download: the response (status 200) with its body still to be read.
    func file(_ url: String, from index: UpstreamIndex) async throws(UpstreamFailure) -> HTTPClientResponse {
        // The body may take long (a large file on a slow link); each read must still come within
        // `answerTimeout`, which the client's read timeout enforces.
        let deadline = NIODeadline.now() + .hours(6)
        let (response, _) = try await self.get(url, headers: [:], from: index, deadline: deadline)
        guard response.status == .ok else {
            throw .badAnswer("\(url) answered \(response.status.code)")
        }
        return response
    }

    /// A GET, following redirects; credentials are sent only to the upstream index's own origin.
    private func get(
        _ url: String,
        headers: HTTPHeaders,
        from index: UpstreamIndex,
        deadline: NIODeadline
    ) async throws(UpstreamFailure) -> (HTTPClientResponse, String) {
        var current = url
        for _ in 0...Self.maximumRedirects {
            guard let target = URL(string: current), let scheme = target.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
                throw .badAnswer("refused to fetch \(current): only http and https URLs are followed")
            }
            var request = HTTPClientRequest(url: current)
            request.method = .GET
            request.headers = headers
            request.headers.replaceOrAdd(name: "User-Agent", value: self.userAgent)
            if let username = index.username, Self.sameOrigin(target, URL(string: index.simpleURL)) {
                let pair = "\(username):\(index.password ?? "")"
                request.headers.replaceOrAdd(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
            }
            let origin = "\(scheme)://\(target.host ?? ""):\(target.port.map(String.init) ?? "")"
            if let recent = self.unreachable.recentFailure(of: origin) { throw recent }
            let response: HTTPClientResponse
            do {
                response = try await self.http.execute(request, deadline: deadline)
            } catch {
                let failure = Self.failure(error, url: current)
                self.unreachable.record(failure, of: origin)
                throw failure
            }
            self.unreachable.recordAnswer(from: origin)
            guard [301, 302, 303, 307, 308].contains(response.status.code) else { return (response, current) }
            guard let location = response.headers.first(name: "Location"),
                let next = URL(string: location, relativeTo: target)?.absoluteURL.absoluteString
            else {
                throw .badAnswer("\(current) redirected without a usable Location")
            }
            current = next
        }
        throw .badAnswer("more than \(Self.maximumRedirects) redirects from \(url)")
    }

    private static func sameOrigin(_ lhs: URL, _ rhs: URL?) -> Bool {
        guard let rhs else { return false }
        return lhs.scheme?.lowercased() == rhs.scheme?.lowercased() && lhs.host?.lowercased() == rhs.host?.lowercased()
            && lhs.port == rhs.port
    }

    static func failure(_ error: any Error, url: String) -> UpstreamFailure {
        if let failure = error as? UpstreamFailure { return failure }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return .timedOut("\(url): \(error)")
            default:
                return .unreachable("\(url): \(error)")
            }
        }
        return .unreachable("\(url): \(error)")
    }
}

/// Hosts that recently could not be reached, each with the failure to repeat while it is fresh.
final class UnreachableHosts: Sendable {
    private struct Entry {
        var failure: UpstreamFailure
        var until: ContinuousClock.Instant
        var probing = false
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    let retryInterval: Duration

    init(retryInterval: Duration) {
        self.retryInterval = retryInterval
    }

    /// The failure to answer with now, or nil when a request may go to the host (as its probe,
    /// once the interval has passed).
    func recentFailure(of origin: String) -> UpstreamFailure? {
        let now = ContinuousClock.now
        return self.entries.withLockedValue { entries in
            guard var entry = entries[origin] else { return nil }
            guard entry.until <= now, !entry.probing else { return entry.failure }
            entry.probing = true
            entries[origin] = entry
            return nil
        }
    }

    func record(_ failure: UpstreamFailure, of origin: String) {
        switch failure {
        case .unreachable, .timedOut:
            let until = ContinuousClock.now + self.retryInterval
            self.entries.withLockedValue { $0[origin] = Entry(failure: failure, until: until) }
        case .badAnswer:
            self.recordAnswer(from: origin)
        }
    }

    func forgetAll() {
        self.entries.withLockedValue { $0.removeAll() }
    }

    func recordAnswer(from origin: String) {
        self.entries.withLockedValue { $0[origin] = nil }
    }
}
