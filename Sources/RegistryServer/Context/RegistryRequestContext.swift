import Hummingbird
import NIOConcurrencyHelpers
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

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// The caller of one request, as the request log names it.
final class CallerNote: Sendable {
    private let box = NIOLockedValueBox(Principal.anonymous)

    var principal: Principal {
        get { self.box.withLockedValue { $0 } }
        set { self.box.withLockedValue { $0 = newValue } }
    }
}
