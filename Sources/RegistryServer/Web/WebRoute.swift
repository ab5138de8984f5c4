import Hummingbird

/// A page of the web interface, as `WebRoute.init(method:segments:)` finds it in a path. Pages use
/// GitLab's paths: `/<group>`, `/<group>/<project>`, `/<project>/-/packages/<name>`, `/users/sign_in`,
/// `/-/user_settings/personal_access_tokens`; the API's own paths (`/api/`) are never pages.
enum WebRoute: Sendable, Equatable {
    case home
    case search
    case signIn
    case signOut
    case stylesheet
    case script
    case cspReport
    case tokens
    case revokeToken(id: Int64)
    /// A group or a project, whichever the full path names.
    case namespace(fullPath: String)
    case package(project: String, name: String, version: String?)
    case packageAction(project: String, name: String, version: String, action: PackageFormAction)

    /// What a maintainer may do from a release's page, each behind a confirmation page.
    enum PackageFormAction: Sendable, Equatable {
        case yank, unyank, deleteRelease
        case deleteFile(id: Int64)
    }

    /// The route for a method and the path's segments (already split on `/`); nil when no page lives there.
    init?(method: HTTPRequest.Method, segments: [Substring]) {
        let isRead = method == .get || method == .head
        guard let route = Self.route(segments: segments) else { return nil }
        switch route {
        case .signIn, .tokens, .packageAction: guard isRead || method == .post else { return nil }
        case .signOut, .revokeToken, .cspReport: guard method == .post else { return nil }
        default: guard isRead else { return nil }
        }
        self = route
    }

    private static func route(segments: [Substring]) -> WebRoute? {
        guard let first = segments.first else { return .home }
        switch first {
        case "api": return nil
        case "users":
            guard segments.count == 2 else { return nil }
            switch segments[1] {
            case "sign_in": return .signIn
            case "sign_out": return .signOut
            default: return nil
            }
        case "-":
            switch segments.dropFirst().joined(separator: "/") {
            case "search": return .search
            case "static/wheelhouse.css": return .stylesheet
            case "static/wheelhouse.js": return .script
            case "csp-report": return .cspReport
            case "user_settings/personal_access_tokens": return .tokens
            default:
                if segments.count == 5, segments[1] == "user_settings", segments[2] == "personal_access_tokens", segments[4] == "revoke",
                    let id = Int64(segments[3]), id > 0
                {
                    return .revokeToken(id: id)
                }
                return nil
            }
        default:
            break
        }
        guard let decoded = Self.decoded(segments) else { return nil }
        guard let dash = decoded.firstIndex(of: "-") else {
            return .namespace(fullPath: decoded.joined(separator: "/"))
        }
        // `<project>/-/packages/<name>[/<version>[/<action>...]]`
        let project = decoded[..<dash].joined(separator: "/")
        let rest = Array(decoded[(dash + 1)...])
        guard !project.isEmpty, rest.count >= 2, rest[0] == "packages" else { return nil }
        let name = rest[1]
        switch rest.count {
        case 2: return .package(project: project, name: name, version: nil)
        case 3: return .package(project: project, name: name, version: rest[2])
        case 4:
            let action: PackageFormAction
            switch rest[3] {
            case "yank": action = .yank
            case "unyank": action = .unyank
            case "delete": action = .deleteRelease
            default: return nil
            }
            return .packageAction(project: project, name: name, version: rest[2], action: action)
        case 6 where rest[3] == "files" && rest[5] == "delete":
            guard let id = Int64(rest[4]), id > 0 else { return nil }
            return .packageAction(project: project, name: name, version: rest[2], action: .deleteFile(id: id))
        default: return nil
        }
    }

    private static func decoded(_ segments: [Substring]) -> [String]? {
        var decoded: [String] = []
        for segment in segments {
            guard let text = PercentDecoding.decode(segment), !text.isEmpty, !text.contains("/") else { return nil }
            decoded.append(text)
        }
        return decoded
    }

    /// Pages that change something: a POST to them must carry the form token.
    var changesState: Bool {
        switch self {
        case .signIn, .signOut, .tokens, .revokeToken, .packageAction: true
        default: false
        }
    }
}
