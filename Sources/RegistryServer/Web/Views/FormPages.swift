import Registry

/// The pages with forms: sign-in, access tokens, a maintainer's confirmation; and the pages that
/// say no (404, 403, 400, 429).
enum FormPages {
    static func signIn(visitor: WebVisitor, login: String = "", redirectTo: String?, alert: String?) -> String {
        var main = "<div class=\"narrow\"><h1>Sign in</h1>"
        if let alert { main += "<p id=\"flash-alert\" class=\"flash\" role=\"alert\">\(e(alert))</p>" }
        main += """
            <form id="sign-in" action="/users/sign_in" method="post">\(Layout.formToken(visitor))
            <input type="hidden" name="redirect_to" value="\(e(redirectTo ?? ""))">
            <label for="login">Username</label><input id="login" type="text" name="login" value="\(e(login))" autocomplete="username" required autofocus>
            <label for="password">Password</label><input id="password" type="password" name="password" autocomplete="current-password" required>
            <p><button id="sign-in-button" type="submit">Sign in</button></p>
            </form></div>
            """
        return Layout.page(title: "Sign in", visitor: visitor, main: main)
    }

    static func tokens(visitor: WebVisitor, tokens: [PersonalAccessToken], newSecret: String?, alert: String?) -> String {
        var main = "<h1>Personal access tokens</h1>"
        if let alert { main += "<p id=\"flash-alert\" class=\"flash\" role=\"alert\">\(e(alert))</p>" }
        if let newSecret {
            main += """
                <div class="notice"><p>Your new token. Copy it now: it is not shown again.</p>
                <div class="copyable"><input id="new-token-value" type="text" readonly value="\(e(newSecret))" aria-label="New token">\(Layout.copyButton(newSecret))</div></div>
                """
        }
        main +=
            "<h2>Active tokens</h2><div class=\"table-wrap\"><table id=\"active-tokens\"><thead><tr><th>Name</th><th>Scopes</th><th>Expires</th><th></th></tr></thead><tbody>"
        for token in tokens {
            main +=
                "<tr data-token-id=\"\(token.id)\"><td>\(e(token.name))</td><td>\(e(token.scopes.map(\.rawValue).sorted().joined(separator: ", ")))</td>"
            main += "<td>\(e(token.expiresAt?.iso8601 ?? "never"))</td>"
            main +=
                "<td><form class=\"revoke inline\" action=\"/-/user_settings/personal_access_tokens/\(token.id)/revoke\" method=\"post\">\(Layout.formToken(visitor))"
            main += "<button class=\"revoke-button danger\" type=\"submit\">Revoke</button></form></td></tr>"
        }
        main += "</tbody></table></div>"
        if tokens.isEmpty { main += "<p class=\"muted\">You have no active tokens.</p>" }
        main += """
            <h2>Add a token</h2>
            <form id="new-token" class="narrow" action="/-/user_settings/personal_access_tokens" method="post">\(Layout.formToken(visitor))
            <label for="token-name">Name</label><input id="token-name" type="text" name="name" required maxlength="255">
            <fieldset><legend>Scopes</legend>
            <label class="check"><input type="checkbox" name="scopes" value="api"> api (read and write, uploads included)</label>
            <label class="check"><input type="checkbox" name="scopes" value="read_api" checked> read_api</label>
            </fieldset>
            <label for="token-expires">Expires on (optional)</label><input id="token-expires" type="date" name="expires_at">
            <p><button id="create-token" type="submit">Create token</button></p>
            </form>
            """
        return Layout.page(title: "Personal access tokens", visitor: visitor, main: main)
    }

    /// A maintainer's confirmation step before a yank, unyank or deletion.
    static func confirm(
        visitor: WebVisitor,
        title: String,
        explanation: String,
        action: String,
        button: String,
        askReason: Bool,
        back: String
    ) -> String {
        var main = "<div class=\"narrow\"><h1>\(e(title))</h1><p>\(e(explanation))</p>"
        main += "<form id=\"confirm\" action=\"\(e(action))\" method=\"post\">\(Layout.formToken(visitor))"
        if askReason {
            main +=
                "<label for=\"reason\">Reason (shown to installers)</label><textarea id=\"reason\" name=\"reason\" rows=\"3\" maxlength=\"1000\"></textarea>"
        }
        main +=
            "<p class=\"actions\"><button id=\"confirm-button\" class=\"danger\" type=\"submit\">\(e(button))</button> <a href=\"\(e(back))\">Cancel</a></p></form></div>"
        return Layout.page(title: title, visitor: visitor, main: main)
    }

    static func message(visitor: WebVisitor, title: String, text: String, signInPrompt redirectTo: String? = nil) -> String {
        var main = "<h1>\(e(title))</h1><p>\(e(text))</p>"
        if let redirectTo {
            main +=
                "<p><a id=\"sign-in-prompt\" href=\"/users/sign_in?redirect_to=\(e(redirectTo.addingQueryPercentEncoding))\">Sign in</a> to see what your account can see.</p>"
        }
        return Layout.page(title: title, visitor: visitor, main: main)
    }
}
