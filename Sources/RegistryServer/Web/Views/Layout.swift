import Registry
import SafeHTML

/// The frame of every page: the header (home, search, who is signed in) around the page's own
/// content. Views are Swift functions returning strings: no template engine to load or cache, the
/// compiler checks every value that goes in, and every text goes through `HTML.escape` (`e`).
enum Layout {
    static func page(title: String, visitor: WebVisitor, query: String = "", main: String) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title)) · Wheelhouse</title>
            <link rel="stylesheet" href="/-/static/wheelhouse.css">
            <script src="/-/static/wheelhouse.js" defer></script>
            </head>
            <body>
            <header class="site">
            <a id="home" class="brand" href="/">Wheelhouse</a>
            <form id="header-search" class="search" action="/-/search" method="get" role="search">
            <input type="search" name="q" value="\(e(query))" placeholder="Search packages" aria-label="Search packages">
            </form>
            <nav class="account">
            """
        if let user = visitor.user {
            html += """
                <span id="current-user">\(e(user.username))</span>
                <a id="tokens-link" href="/-/user_settings/personal_access_tokens">Access tokens</a>
                <form id="sign-out" action="/users/sign_out" method="post">\(formToken(visitor))<button id="sign-out-button" type="submit">Sign out</button></form>
                """
        } else {
            html += "<a id=\"sign-in\" href=\"/users/sign_in\">Sign in</a>"
        }
        html += "</nav>\n</header>\n<main>\n" + main + "\n</main>\n"
        html += "<footer class=\"site\">Wheelhouse \(e(WheelhouseVersion.current))</footer>\n</body>\n</html>\n"
        return html
    }

    static func formToken(_ visitor: WebVisitor) -> String {
        "<input type=\"hidden\" name=\"authenticity_token\" value=\"\(e(visitor.formToken))\">"
    }

    /// A `<time>` for an instant: machine-readable, shown as a UTC date and minute.
    static func time(_ instant: Timestamp, id: String? = nil, className: String? = nil) -> String {
        let iso = instant.iso8601
        let shown = String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(5)) + " UTC"
        let attributes = (id.map { " id=\"\($0)\"" } ?? "") + (className.map { " class=\"\($0)\"" } ?? "")
        return "<time\(attributes) datetime=\"\(e(iso))\">\(e(shown))</time>"
    }

    /// A copy-to-clipboard button for `text` (the script finds it; without script it is inert).
    static func copyButton(_ text: String) -> String {
        "<button type=\"button\" class=\"copy\" data-copy=\"\(e(text))\">Copy</button>"
    }

    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(units[unit])"
    }
}

/// Escapes text for a page (short, because it is everywhere).
@inline(__always) func e(_ text: String) -> String { HTML.escape(text) }
