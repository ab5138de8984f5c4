import Hummingbird
import Registry

/// Signing in and out, and the visitor's own personal access tokens.
extension WebEndpoints {
    func signInForm(_ call: WebCall) -> Response {
        let visitor = call.visitor.withFormToken()
        let redirect = Self.localRedirect(call.query("redirect_to"))
        return WebResponse.page(
            FormPages.signIn(visitor: visitor, redirectTo: redirect, alert: nil),
            visitor: visitor,
            secure: self.secureCookies,
            isHead: call.request.method == .head
        )
    }

    /// `POST /users/sign_in`: the same answer for an unknown user, a wrong password and an account
    /// without one; throttled per account and per address before the password is even checked.
    func signIn(_ call: WebCall) async throws -> Response {
        let form = call.form!
        let login = String((form["login"] ?? "").prefix(255))
        let password = form["password"] ?? ""
        let redirect = Self.localRedirect(form["redirect_to"])
        let address = call.context.remoteAddress
        let throttle = self.services.signInThrottle
        func tooMany(_ alert: String, retryAfter: Int64) -> Response {
            var response = self.page(
                FormPages.signIn(visitor: call.visitor, login: login, redirectTo: redirect, alert: alert),
                status: .tooManyRequests,
                call
            )
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
        if let wait = try await throttle.admit(login: login, address: address) {
            let minutes = max(1, (wait + 59) / 60)
            return tooMany("Too many sign-in attempts: try again in \(minutes) minute\(minutes == 1 ? "" : "s").", retryAfter: wait)
        }
        let user: User?
        do {
            user = login.isEmpty ? nil : try await self.services.passwords.user(login: login, password: password)
        } catch is PasswordVerifier.Busy {
            return tooMany("Too many sign-ins are being checked right now: try again in a moment.", retryAfter: 1)
        }
        guard let user else {
            self.logger.info("sign-in refused", metadata: ["login": "\(LogText.sanitised(login))", "address": "\(address ?? "")"])
            return self.page(
                FormPages.signIn(visitor: call.visitor, login: login, redirectTo: redirect, alert: "Invalid login or password."),
                status: .unauthorized,
                call
            )
        }
        try await throttle.succeeded(login: login, address: address)
        let id = try await self.services.webSessions.start(for: user, replacing: call.visitor.sessionID)
        self.logger.info("signed in", metadata: ["user": "\(user.username)"])
        return WebResponse.redirect(
            to: redirect ?? "/",
            cookies: [Cookies.set(Cookies.session, id, secure: self.secureCookies), Cookies.clear(Cookies.formToken, secure: self.secureCookies)]
        )
    }

    func signOut(_ call: WebCall) async throws -> Response {
        if let id = call.visitor.sessionID { try await self.services.webSessions.end(id) }
        return WebResponse.redirect(to: "/", cookies: [Cookies.clear(Cookies.session, secure: self.secureCookies)])
    }

    /// Only a path on this server: `/x`, never `//host` or `/\host` (which browsers treat as another site).
    static func localRedirect(_ target: String?) -> String? {
        guard let target, target.hasPrefix("/"), !target.hasPrefix("//"), !target.hasPrefix("/\\"), target.utf8.count <= 2048,
            !target.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\\" })
        else { return nil }
        return target
    }

    /// Signed-in pages send an anonymous visitor to sign in, and back here after.
    private func requireUser(_ call: WebCall) throws(RedirectToSignIn) {
        guard call.visitor.user != nil else { throw RedirectToSignIn(path: call.request.uri.path) }
    }

    struct RedirectToSignIn: Error {
        var path: String
        var response: Response { WebResponse.redirect(to: "/users/sign_in?redirect_to=" + self.path.addingQueryPercentEncoding) }
    }

    func tokens(_ call: WebCall, newSecret: String? = nil, alert: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        do { try self.requireUser(call) } catch { return error.response }
        let tokens = try await self.services.management.ownActivePersonalAccessTokens(call.principal)
        return self.page(FormPages.tokens(visitor: call.visitor, tokens: tokens, newSecret: newSecret, alert: alert), status: status, call)
    }

    /// `POST .../personal_access_tokens`: the secret is in this answer only (never in a URL or a
    /// redirect), and the page says so.
    func createToken(_ call: WebCall) async throws -> Response {
        do { try self.requireUser(call) } catch { return error.response }
        let form = call.form!
        let scopes = Set(form.all("scopes").compactMap(TokenScope.init(rawValue:)))
        var expiresAt: Day?
        if let text = form["expires_at"], !text.isEmpty {
            guard let day = Day(iso8601: text) else {
                return try await self.tokens(call, alert: "The expiry date is not a date (YYYY-MM-DD).", status: .badRequest)
            }
            expiresAt = day
        }
        guard !scopes.isEmpty else { return try await self.tokens(call, alert: "Choose at least one scope.", status: .badRequest) }
        do {
            let issued = try await self.services.management.createOwnPersonalAccessToken(
                call.principal,
                name: (form["name"] ?? "").trimmingCharacters(in: .whitespaces),
                scopes: scopes,
                expiresAt: expiresAt,
                author: call.author
            )
            return try await self.tokens(call, newSecret: issued.secret)
        } catch RegistryError.invalid(let message) {
            return try await self.tokens(call, alert: message, status: .badRequest)
        }
    }

    func revokeToken(_ id: Int64, _ call: WebCall) async throws -> Response {
        do { try self.requireUser(call) } catch { return error.response }
        try await self.services.management.revokeOwnPersonalAccessToken(call.principal, id: id, author: call.author)
        return WebResponse.redirect(to: "/-/user_settings/personal_access_tokens")
    }
}

extension WebCall {
    /// Who a change made from this page is recorded as: the visitor, from the client's address.
    var author: AuditAuthor { AuditAuthor(self.principal, ipAddress: self.context.remoteAddress) }
}
