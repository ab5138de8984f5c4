import Registry

/// Home, search, group and project pages: lists of packages, groups and projects.
enum ListViews {
    static func releaseItem(_ release: ReleaseSummary, projectPath: String, itemClass: String, nameClass: String?) -> String {
        let link = IndexURLs.packagePage(project: projectPath, name: release.normalizedName)
        let nameAttribute = nameClass.map { " class=\"\($0)\"" } ?? ""
        return """
            <li class="\(itemClass)"><a\(nameAttribute) href="\(e(link))">\(e(release.name))</a> <span class="version">\(e(release.version))</span>\
            \(release.yanked ? " <span class=\"yanked\">yanked</span>" : "")
            <div class="summary">\(e(release.summary))</div>
            <div class="muted"><span class="project">\(e(projectPath))</span> · \(Layout.time(release.uploadedAt, className: "uploaded"))</div></li>
            """
    }

    static func home(visitor: WebVisitor, recent: [ReleaseSummary], paths: [ProjectID: String], groups: [Namespace], projects: [Project]) -> String {
        var main = """
            <h1>Packages</h1>
            <form id="search" class="search" action="/-/search" method="get" role="search">
            <input type="search" name="q" placeholder="Search packages by name or summary" aria-label="Search packages">
            <button type="submit">Search</button>
            </form>
            <div class="layout"><section id="recent"><h2>Recently published</h2>
            """
        if recent.isEmpty {
            main += "<p class=\"muted\">Nothing published here yet that you can see.</p>"
        } else {
            main += "<ul class=\"plain\">"
            for release in recent { main += releaseItem(release, projectPath: paths[release.projectID] ?? "", itemClass: "package", nameClass: nil) }
            main += "</ul>"
        }
        main += "</section><aside><section id=\"groups\"><h2>Groups</h2>"
        main +=
            groups.isEmpty
            ? "<p class=\"muted\">None.</p>"
            : "<ul>" + groups.map { "<li><a href=\"/\(e($0.fullPath))\">\(e($0.fullPath))</a></li>" }.joined() + "</ul>"
        main += "</section><section id=\"projects\"><h2>Projects</h2>"
        main +=
            projects.isEmpty
            ? "<p class=\"muted\">None.</p>"
            : "<ul>" + projects.map { "<li><a href=\"/\(e($0.pathWithNamespace))\">\(e($0.pathWithNamespace))</a></li>" }.joined() + "</ul>"
        main += "</section></aside></div>"
        return Layout.page(title: "Packages", visitor: visitor, main: main)
    }

    static let pageSize = 20

    static func search(visitor: WebVisitor, query: String, results: [ReleaseSummary], paths: [ProjectID: String], page: Int) -> String {
        var main = """
            <h1>Search</h1>
            <form id="search" class="search" action="/-/search" method="get" role="search">
            <input type="search" name="q" value="\(e(query))" aria-label="Search packages"> <button type="submit">Search</button>
            </form>
            """
        if !query.isEmpty {
            let count = results.count
            main += "<p id=\"result-count\">\(count) package\(count == 1 ? "" : "s")</p><ul id=\"results\" class=\"plain\">"
            let shown = results.dropFirst((page - 1) * pageSize).prefix(pageSize)
            for release in shown { main += releaseItem(release, projectPath: paths[release.projectID] ?? "", itemClass: "result", nameClass: "name") }
            main += "</ul>"
            let pages = (count + pageSize - 1) / pageSize
            if pages > 1 {
                main += "<nav class=\"pages\">"
                if page > 1 {
                    main += "<a rel=\"prev\" href=\"/-/search?q=\(e(query.addingQueryPercentEncoding))&amp;page=\(page - 1)\">Previous</a> "
                }
                main += "<span>Page \(page) of \(pages)</span>"
                if page < pages {
                    main += " <a rel=\"next\" href=\"/-/search?q=\(e(query.addingQueryPercentEncoding))&amp;page=\(page + 1)\">Next</a>"
                }
                main += "</nav>"
            }
        }
        return Layout.page(title: query.isEmpty ? "Search" : "Search: \(query)", visitor: visitor, query: query, main: main)
    }

    static func group(
        visitor: WebVisitor,
        group: Namespace,
        subgroups: [Namespace],
        projects: [Project],
        packages: [(ReleaseSummary, String)],
        urls: IndexURLs
    ) -> String {
        var main = "<h1>\(e(group.name))</h1><p class=\"muted\">Group <code>\(e(group.fullPath))</code></p>"
        if !group.description.isEmpty { main += "<p>\(e(group.description))</p>" }
        let index = urls.group(group)
        main += "<h2>Group index</h2><div class=\"copyable\"><code id=\"group-index-url\">\(e(index))</code>\(Layout.copyButton(index))</div>"
        main +=
            "<h2>Subgroups</h2><ul id=\"subgroups\">" + subgroups.map { "<li><a href=\"/\(e($0.fullPath))\">\(e($0.fullPath))</a></li>" }.joined()
            + "</ul>"
        if subgroups.isEmpty { main += "<p class=\"muted\">None.</p>" }
        main +=
            "<h2>Projects</h2><ul id=\"projects\">"
            + projects.map { "<li><a href=\"/\(e($0.pathWithNamespace))\">\(e($0.pathWithNamespace))</a></li>" }.joined() + "</ul>"
        if projects.isEmpty { main += "<p class=\"muted\">None you can see.</p>" }
        main += "<h2>Packages</h2><ul id=\"packages\" class=\"plain\">"
        for (release, path) in packages { main += releaseItem(release, projectPath: path, itemClass: "package", nameClass: nil) }
        main += "</ul>"
        if packages.isEmpty { main += "<p class=\"muted\">None yet.</p>" }
        return Layout.page(title: group.fullPath, visitor: visitor, main: main)
    }

    static func project(visitor: WebVisitor, project: Project, group: Namespace?, packages: [ReleaseSummary], urls: IndexURLs) -> String {
        var main = "<h1>\(e(project.name))</h1><p class=\"muted\">Project <code>\(e(project.pathWithNamespace))</code></p>"
        if !project.description.isEmpty { main += "<p>\(e(project.description))</p>" }
        let index = urls.project(project)
        main +=
            "<h2>Index URLs</h2><p>This project's index:</p><div class=\"copyable\"><code id=\"project-index-url\">\(e(index))</code>\(Layout.copyButton(index))</div>"
        if let group {
            let groupIndex = urls.group(group)
            main += "<p>Its group's index (every project of <a href=\"/\(e(group.fullPath))\">\(e(group.fullPath))</a>):</p>"
            main += "<div class=\"copyable\"><code id=\"group-index-url\">\(e(groupIndex))</code>\(Layout.copyButton(groupIndex))</div>"
        }
        main += "<h2>Packages</h2><ul id=\"packages\" class=\"plain\">"
        for release in packages { main += releaseItem(release, projectPath: project.pathWithNamespace, itemClass: "package", nameClass: nil) }
        main += "</ul>"
        if packages.isEmpty { main += "<p class=\"muted\">None yet.</p>" }
        return Layout.page(title: project.pathWithNamespace, visitor: visitor, main: main)
    }
}

extension String {
    /// Percent-encoded for a query value.
    var addingQueryPercentEncoding: String {
        self.addingPathPercentEncoding.split(separator: "+", omittingEmptySubsequences: false).joined(separator: "%2B")
    }
}
