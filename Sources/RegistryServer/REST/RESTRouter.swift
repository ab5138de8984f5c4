import Hummingbird
import Registry

/// GitLab's REST API v4 (the parts a package registry needs), matched on raw path segments so that
/// URL-encoded full paths (`acme%2Flib`) stay one parameter.
struct RESTRouter: Sendable {
    typealias Handler = @Sendable (RESTCall) async throws -> Response

    struct Route: Sendable {
        var method: HTTPRequest.Method
        /// Literal segments, or `:name` for a parameter.
        var pattern: [String]
        var handler: Handler

        /// Deploy tokens authenticate the package registry's routes (`projects/:id/packages...`,
        /// `groups/:id/packages...`) and `version`/`metadata`, nothing else, as in GitLab, where
        /// only routes that allow them look deploy tokens up: elsewhere one is an unknown token, a
        /// 401. A deploy token names no user, so members, groups and projects are not its to list.
        var acceptsDeployTokens: Bool {
            self.pattern == ["version"] || self.pattern == ["metadata"] || (self.pattern.count >= 3 && self.pattern[2] == "packages")
        }
    }

    enum Match {
        case found(Route, [String: String])
        /// The path exists, but not for this method.
        case wrongMethod(allowed: [HTTPRequest.Method])
        case none
    }

    private var routes: [Route] = []

    mutating func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        self.routes.append(Route(method: method, pattern: path.split(separator: "/").map(String.init), handler: handler))
    }

    /// Matches the path after `/api/v4` (raw, percent-encoded segments). Literal segments win over
    /// parameters (`personal_access_tokens/self` is not token id "self").
    func match(method: HTTPRequest.Method, rawSegments: [Substring]) -> Match {
        var allowed: [HTTPRequest.Method] = []
        var best: (route: Route, parameters: [String: String])?
        for route in self.routes where route.pattern.count == rawSegments.count {
            var parameters: [String: String] = [:]
            var matched = true
            for (pattern, raw) in zip(route.pattern, rawSegments) {
                if pattern.hasPrefix(":") {
                    guard let decoded = PercentDecoding.decode(raw), !decoded.isEmpty else {
                        matched = false
                        break
                    }
                    parameters[String(pattern.dropFirst())] = decoded
                } else if pattern != raw {
                    matched = false
                    break
                }
            }
            guard matched else { continue }
            guard route.method == method || (method == .head && route.method == .get) else {
                allowed.append(route.method)
                continue
            }
            if best == nil || parameters.count < best!.parameters.count { best = (route, parameters) }
        }
        if let best { return .found(best.route, best.parameters) }
        return allowed.isEmpty ? .none : .wrongMethod(allowed: allowed)
    }
}
