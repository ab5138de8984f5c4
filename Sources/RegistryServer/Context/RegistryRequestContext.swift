import Hummingbird
import Registry

/// What a request carries on its way through the middleware: the route it matched and who is
/// calling. Routing and authentication fill it in; the handlers below them read it.
public struct RegistryRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `RoutingMiddleware`.
    var route: APIRoute?
    /// The replay cache's generation when the request was routed, before its caller was
    /// authenticated: a change made through this server after it keeps the answer from being kept
    /// for replay (see `ReplayCache.removeAll`).
    var replayGeneration = 0
    /// Set by `AuthenticationMiddleware`.
    var principal = Principal.anonymous
    var credential: Credential?
    /// Where `AuthenticationMiddleware` notes the caller for `RequestLogMiddleware`, which is above
    /// it and so never sees the context it passes on.
    let caller = CallerNote()
    /// The client's IP address (for the sign-in throttle), when the channel knows it.
    let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// The caller and route of one request, as the request log and metrics name them. One request's
/// middleware runs as one task, in order (routing and authentication write, then the log reads
/// once the answer is made), so it needs no lock.
final class CallerNote: @unchecked Sendable {
    var principal = Principal.anonymous
    var route = APIRoute.unmatchedLabel
    /// Whether the route serves a distribution file or its core metadata (counted as downloads).
    var isDownload = false
}
