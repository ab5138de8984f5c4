import Hummingbird
import Registry

/// Who is looking at a page: a signed-in user (through the session cookie) or an anonymous
/// visitor, and the form token every form of theirs carries.
struct WebVisitor: Sendable {
    var user: User?
    /// The raw session id from the cookie, when signed in.
    var sessionID: String?
    /// Put into every form as `authenticity_token`, checked on every POST.
    var formToken: String
    /// An anonymous visitor's form token is a cookie of its own (double submit); a new one is set
    /// with the page when the browser had none.
    var newFormTokenCookie: String?

    /// As a principal: a session acts with the user's own permissions, like a token with `api`.
    var principal: Principal {
        self.user.map { .user($0, scopes: [.api]) } ?? .anonymous
    }

    static func identify(_ request: Request, sessions: WebSessions) async throws -> WebVisitor {
        if let id = Cookies.value(Cookies.session, in: request.headers), let user = try await sessions.user(forSession: id) {
            return WebVisitor(user: user, sessionID: id, formToken: WebSessions.formToken(forSession: id))
        }
        if let token = Cookies.value(Cookies.formToken, in: request.headers), Self.isWellFormed(token) {
            return WebVisitor(formToken: token)
        }
        return WebVisitor(formToken: "")
    }

    /// For a page with a form: an anonymous visitor without a form token gets one (as a cookie set
    /// with the page). Pages without forms set no cookie.
    func withFormToken() -> WebVisitor {
        guard self.formToken.isEmpty else { return self }
        let token = WebSessions.mintAnonymousFormToken()
        var visitor = self
        visitor.formToken = token
        visitor.newFormTokenCookie = token
        return visitor
    }

    private static func isWellFormed(_ token: String) -> Bool {
        (16...128).contains(token.utf8.count)
            && token.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
            }
    }

    /// Whether a form's `authenticity_token` is this visitor's, compared in constant time.
    func accepts(formToken presented: String?) -> Bool {
        guard let presented, !self.formToken.isEmpty, self.newFormTokenCookie == nil else { return false }
        return WebSessions.formTokensMatch(presented, self.formToken)
    }
}
