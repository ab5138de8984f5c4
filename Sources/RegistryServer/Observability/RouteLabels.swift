/// How metrics and log lines name a route: its template (GitLab's endpoint form), never the raw
/// path, so that names and versions in paths do not make a new series each.
extension APIRoute {
    var label: String {
        switch self {
        case .health: "/-/health"
        case .liveness: "/-/liveness"
        case .readiness: "/-/readiness"
        case .metrics: "/-/metrics"
        case .pypi(let route): route.label
        case .rest(let route, _): "/api/v4/" + route.pattern.joined(separator: "/")
        case .web(let route): route.label
        }
    }

    /// For requests no route matched (404 and 405 from routing).
    static let unmatchedLabel = "unmatched"
}

extension PyPIRoute {
    /// What the labels of the file and core metadata routes, and only those, contain.
    static let fileRouteMarker = "/files/:sha256/"

    var label: String {
        let root: String
        switch self.scope {
        case .project: root = "/api/v4/projects/:id/packages/pypi"
        case .group: root = "/api/v4/groups/:id/-/packages/pypi"
        }
        switch self.endpoint {
        case .upload: return root
        case .yank(let undo): return root + (undo ? "/unyank" : "/yank")
        case .read(.index): return root + "/simple"
        case .read(.package): return root + "/simple/:package_name"
        case .read(.file): return root + "/files/:sha256/:file_identifier"
        case .read(.coreMetadata): return root + "/files/:sha256/:file_identifier.metadata"
        }
    }
}

extension WebRoute {
    var label: String {
        switch self {
        case .home: "web:home"
        case .search: "web:search"
        case .signIn: "web:sign_in"
        case .signOut: "web:sign_out"
        case .stylesheet, .script: "web:static"
        case .cspReport: "web:csp_report"
        case .tokens: "web:tokens"
        case .revokeToken: "web:revoke_token"
        case .namespace: "web:namespace"
        case .package: "web:package"
        case .packageAction: "web:package_action"
        }
    }
}
