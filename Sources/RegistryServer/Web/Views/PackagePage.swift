import Registry

/// A release's page, as useful as Warehouse's project page: what the release is (summary, README,
/// requirements, URLs, license, classifiers), every version and file, and how to install it from
/// this registry. Everything from the upload is escaped or sanitised (the README).
enum PackagePage {
    struct Input {
        var project: Project
        var group: Namespace?
        var package: PackageView
        var release: ReleaseView
        var readme: String
        var canManage: Bool
        var urls: IndexURLs
    }

    static func title(_ input: Input) -> String { "\(input.package.name) \(input.release.package.version)" }

    /// The page's content: the same for every visitor with the same rights (it holds no form
    /// token), so it is kept and only the frame is made per request.
    static func main(_ input: Input) -> String {
        let release = input.release
        let details = release.details ?? ReleaseDetails()
        let projectPath = input.project.pathWithNamespace
        let version = release.package.version
        let isLatest = input.package.latest?.package.id == release.package.id
        var main = "<div class=\"title\"><h1 id=\"package-name\">\(e(input.package.name))</h1>"
        main += "<p><span id=\"package-version\">\(e(version))</span>"
        if let yank = release.yank {
            main += " <span class=\"yanked\">yanked</span>"
            if !yank.reason.isEmpty { main += " <span class=\"yank-reason\">\(e(yank.reason))</span>" }
        }
        main += " · published \(Layout.time(release.uploadedAt, id: "uploaded")) in <a href=\"/\(e(projectPath))\">\(e(projectPath))</a></p>"
        main += "<p id=\"summary\">\(e(details.summary))</p></div>"
        if !isLatest, let latest = input.package.latest {
            main +=
                "<p class=\"notice\">This is not the latest version: see <a href=\"\(e(IndexURLs.packagePage(project: projectPath, name: input.package.normalizedName)))\">\(e(latest.package.version))</a>.</p>"
        }
        if input.canManage { main += actions(input) }
        main += "<div class=\"layout\"><div>"
        main += install(input)
        main += "<h2>Description</h2><div id=\"readme\" class=\"readme\">\(input.readme)</div>"
        main += files(input)
        main += "</div><aside>"
        main += sidebar(details, input)
        main += "</aside></div>"
        return main
    }

    private static func install(_ input: Input) -> String {
        let name = input.package.name
        let version = input.release.package.version
        let index = input.urls.project(input.project)
        let pip = "pip install --index-url \(index) \(name)==\(version)"
        let uv = "uv pip install --index-url \(index) \(name)==\(version)"
        let poetry = "poetry source add --priority=explicit wheelhouse \(index)\npoetry add --source wheelhouse \(name)==\(version)"
        var html = "<h2>Install</h2>"
        html += snippet(id: "install-pip", label: "pip", pip)
        html += snippet(id: "install-uv", label: "uv", uv)
        html += snippet(id: "install-poetry", label: "Poetry", poetry)
        if let group = input.group {
            html += snippet(
                id: "install-pip-group",
                label: "pip, from the group's index",
                "pip install --index-url \(input.urls.group(group)) \(name)==\(version)"
            )
        }
        if input.project.visibility != .public {
            html +=
                "<p class=\"muted\">This project is not public: put a token in the URL, <code>https://__token__:&lt;token&gt;@…</code>, or in your tool's credentials.</p>"
        }
        return html
    }

    private static func snippet(id: String, label: String, _ text: String) -> String {
        "<p class=\"muted\">\(e(label))</p><div class=\"copyable\"><pre id=\"\(id)\"><code>\(e(text))</code></pre>\(Layout.copyButton(text))</div>"
    }

    private static func actions(_ input: Input) -> String {
        let base = IndexURLs.packagePage(
            project: input.project.pathWithNamespace,
            name: input.package.normalizedName,
            version: input.release.package.version
        )
        var html = "<div class=\"actions\">"
        if input.release.yank == nil {
            html += "<a id=\"yank\" href=\"\(e(base))/yank\">Yank this release</a>"
        } else {
            html += "<a id=\"unyank\" href=\"\(e(base))/unyank\">Unyank this release</a>"
        }
        html += "<a id=\"delete-release\" class=\"danger\" href=\"\(e(base))/delete\">Delete this release</a></div>"
        return html
    }

    private static func files(_ input: Input) -> String {
        let base = IndexURLs.packagePage(
            project: input.project.pathWithNamespace,
            name: input.package.normalizedName,
            version: input.release.package.version
        )
        var html = "<h2>Files</h2><div class=\"table-wrap\"><table id=\"files\"><thead><tr><th>File</th><th>Size</th><th>Uploaded</th><th>SHA256</th>"
        if input.canManage { html += "<th></th>" }
        html += "</tr></thead><tbody>"
        for file in input.release.files {
            html += "<tr><td class=\"filename\"><a href=\"\(e(IndexURLs.download(file)))\">\(e(file.fileName))</a>"
            if file.yank != nil { html += " <span class=\"yanked\">yanked</span>" }
            html += "</td><td class=\"size\">\(e(Layout.size(file.size)))</td><td>\(Layout.time(file.uploadedAt))</td>"
            html += "<td class=\"sha256\"><code>\(e(file.digests.sha256))</code></td>"
            if input.canManage { html += "<td><a class=\"delete-file\" href=\"\(e(base))/files/\(file.id)/delete\">Delete</a></td>" }
            html += "</tr>"
        }
        return html + "</tbody></table></div>"
    }

    private static func sidebar(_ details: ReleaseDetails, _ input: Input) -> String {
        var html = ""
        if !details.projectURLs.isEmpty {
            html += "<section><h2>Project links</h2><ul id=\"project-urls\">"
            for link in details.projectURLs {
                // Only web addresses become links; anything else (javascript:, data:) is shown as text.
                if Self.isWebURL(link.url) {
                    html += "<li><a href=\"\(e(link.url))\" rel=\"nofollow noopener\">\(e(link.label))</a></li>"
                } else {
                    html += "<li>\(e(link.label)): <code>\(e(link.url))</code></li>"
                }
            }
            html += "</ul></section>"
        }
        html += "<section><h2>Meta</h2><dl>"
        let license = details.licenseExpression ?? details.license
        html += "<dt>License</dt><dd id=\"license\">\(e(license.map { String($0.prefix(500)) } ?? "not given"))</dd>"
        html +=
            "<dt>Requires Python</dt><dd id=\"requires-python\">\(e(details.requiresPython ?? input.release.files.first?.requiresPython ?? "any"))</dd>"
        if let author = details.author ?? details.authorEmail { html += "<dt>Author</dt><dd>\(e(author))</dd>" }
        if let maintainer = details.maintainer ?? details.maintainerEmail { html += "<dt>Maintainer</dt><dd>\(e(maintainer))</dd>" }
        if let keywords = details.keywords { html += "<dt>Keywords</dt><dd>\(e(keywords))</dd>" }
        html += "</dl></section>"
        html += "<section><h2>Dependencies</h2><ul id=\"dependencies\">"
        html += details.requiresDist.map { "<li><code>\(e($0))</code></li>" }.joined()
        html += "</ul>" + (details.requiresDist.isEmpty ? "<p class=\"muted\">None.</p>" : "") + "</section>"
        if !details.classifiers.isEmpty {
            html +=
                "<section><h2>Classifiers</h2><ul id=\"classifiers\">" + details.classifiers.map { "<li>\(e($0))</li>" }.joined() + "</ul></section>"
        }
        html += "<section><h2>Versions</h2><ul id=\"versions\" class=\"plain\">"
        for release in input.package.releases {
            let link = IndexURLs.packagePage(
                project: input.project.pathWithNamespace,
                name: input.package.normalizedName,
                version: release.package.version
            )
            let current = release.package.id == input.release.package.id ? " aria-current=\"page\"" : ""
            html += "<li><a href=\"\(e(link))\"\(current)>\(e(release.package.version))</a> \(Layout.time(release.uploadedAt))"
            if let yank = release.yank {
                html += " <span class=\"yanked\">yanked</span>"
                if !yank.reason.isEmpty { html += " <span class=\"yank-reason\">\(e(yank.reason))</span>" }
            }
            html += "</li>"
        }
        return html + "</ul></section>"
    }

    static func isWebURL(_ url: String) -> Bool {
        let lower = url.lowercased()
        return (lower.hasPrefix("https://") || lower.hasPrefix("http://")) && !url.unicodeScalars.contains { $0.value < 0x21 || $0.value == 0x7F }
    }
}
