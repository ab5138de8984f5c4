import Hummingbird
import PythonPackaging
import Registry
import SafeHTML

/// The pages that show packages: home, search, group and project pages, a package's page, and a
/// maintainer's yank and delete.
extension WebEndpoints {
    func home(_ call: WebCall) async throws -> Response {
        let projects = try await self.services.access.readableProjects(for: call.principal)
        let recent = try await self.services.catalogueViews.recentReleases(in: projects)
        let groups = try await self.services.management.groups(call.principal, page: PageRequest(page: 1, perPage: 100)).items
        let visible = try await self.services.management.projects(call.principal, in: nil)
        let paths = Dictionary(projects.map { ($0.id, $0.pathWithNamespace) }, uniquingKeysWith: { first, _ in first })
        return self.page(
            ListViews.home(visitor: call.visitor, recent: recent, paths: paths, groups: groups, projects: Array(visible.prefix(100))),
            call
        )
    }

    func search(_ call: WebCall) async throws -> Response {
        let query = call.query("q") ?? ""
        guard query.utf8.count <= 200 else { throw RegistryError.invalid("A search is at most 200 bytes long") }
        let page = max(1, min(Int(call.query("page") ?? "") ?? 1, 10_000))
        var results: [ReleaseSummary] = []
        var paths: [ProjectID: String] = [:]
        if !query.trimmingCharacters(in: .whitespaces).isEmpty {
            let projects = try await self.services.access.readableProjects(for: call.principal)
            results = try await self.services.catalogueViews.search(query, in: projects)
            paths = Dictionary(projects.map { ($0.id, $0.pathWithNamespace) }, uniquingKeysWith: { first, _ in first })
        }
        return self.page(ListViews.search(visitor: call.visitor, query: query, results: results, paths: paths, page: page), call)
    }

    /// `/<full path>`: a project if one has that path, else a group.
    func namespace(_ path: String, _ call: WebCall) async throws -> Response {
        if let (project, permissions) = try await self.services.access.pageDecision(onProject: path, for: call.principal) {
            let packages = permissions.canReadPackages ? try await self.services.catalogueViews.packages(in: project) : []
            let namespace = try await self.services.management.namespace(of: project)
            let group = namespace?.kind == .group ? namespace : nil
            return self.page(ListViews.project(visitor: call.visitor, project: project, group: group, packages: packages, urls: call.urls), call)
        }
        guard let (group, readable) = try await self.services.access.pageDecision(onGroup: path, for: call.principal) else {
            throw RegistryError.notFound("404 Not Found")
        }
        let subgroups = try await self.services.management.subgroups(call.principal, of: String(group.id))
        var projects: [Project] = []
        for project in try await self.services.management.projects(call.principal, in: String(group.id)) where project.namespaceID == group.id {
            projects.append(project)
        }
        let recent = try await self.services.catalogueViews.recentReleases(in: readable, limit: 50)
        let paths = Dictionary(readable.map { ($0.id, $0.pathWithNamespace) }, uniquingKeysWith: { first, _ in first })
        return self.page(
            ListViews.group(
                visitor: call.visitor,
                group: group,
                subgroups: subgroups,
                projects: projects,
                packages: recent.map { ($0, paths[$0.projectID] ?? "") },
                urls: call.urls
            ),
            call
        )
    }

    /// The project (readable by the visitor) and whether they may manage its packages.
    private func readableProject(_ path: String, _ call: WebCall) async throws -> (Project, ProjectPermissions) {
        guard let (project, permissions) = try await self.services.access.pageDecision(onProject: path, for: call.principal),
            permissions.canReadPackages
        else { throw RegistryError.notFound("404 Not Found") }
        return (project, permissions)
    }

    func package(project path: String, name: String, version: String?, _ call: WebCall) async throws -> Response {
        let (project, permissions) = try await self.readableProject(path, call)
        let normalized = ProjectName.normalize(name)
        guard let package = try await self.services.catalogueViews.package(normalized, in: project) else {
            throw RegistryError.notFound("404 Not Found")
        }
        if normalized != name || path != project.pathWithNamespace {
            return Self.permanentRedirect(IndexURLs.packagePage(project: project.pathWithNamespace, name: normalized, version: version))
        }
        guard let release = version.map({ package.release($0) }) ?? package.latest else { throw RegistryError.notFound("404 Not Found") }
        let versions = try await self.services.reader.packagesVersions(of: [project])
        let key = "\(release.package.id)|\(permissions.canManagePackages)|\(call.urls.root)"
        let input = PackagePage.Input(
            project: project,
            group: nil,
            package: package,
            release: release,
            readme: "",
            canManage: permissions.canManagePackages,
            urls: call.urls
        )
        let main = try await self.packageMains.value(for: key, versions: versions) {
            var input = input
            let namespace = try await self.services.management.namespace(of: project)
            input.group = namespace?.kind == .group ? namespace : nil
            let description = try await self.services.catalogueViews.description(of: release)
            input.readme = ReadmeRenderer.render(description.text, contentType: description.contentType)
            return PackagePage.main(input)
        }
        return self.page(Layout.page(title: PackagePage.title(input), visitor: call.visitor, main: main), call)
    }

    static func permanentRedirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.contentLength] = "0"
        WebResponse.securityHeaders(&headers)
        return Response(status: .movedPermanently, headers: headers)
    }

    func packageAction(
        _ action: WebRoute.PackageFormAction,
        project path: String,
        name: String,
        version: String,
        _ call: WebCall
    ) async throws
        -> Response
    {
        let (project, permissions) = try await self.readableProject(path, call)
        guard let package = try await self.services.catalogueViews.package(ProjectName.normalize(name), in: project),
            let release = package.release(version)
        else { throw RegistryError.notFound("404 Not Found") }
        guard permissions.canManagePackages else { throw RegistryError.forbidden("403 Forbidden") }
        let releasePage = IndexURLs.packagePage(project: project.pathWithNamespace, name: package.normalizedName, version: release.package.version)
        // The form posts to this action's own canonical path, never to what the request spelled.
        let here: String
        switch action {
        case .yank: here = releasePage + "/yank"
        case .unyank: here = releasePage + "/unyank"
        case .deleteRelease: here = releasePage + "/delete"
        case .deleteFile(let id): here = releasePage + "/files/\(id)/delete"
        }
        let label = "\(package.name) \(release.package.version)"
        guard let form = call.form else {
            let html: String
            switch action {
            case .yank:
                html = FormPages.confirm(
                    visitor: call.visitor,
                    title: "Yank \(label)?",
                    explanation: "Installers will skip this release unless it is pinned exactly (PEP 592). Its files stay downloadable.",
                    action: here,
                    button: "Yank release",
                    askReason: true,
                    back: releasePage
                )
            case .unyank:
                html = FormPages.confirm(
                    visitor: call.visitor,
                    title: "Unyank \(label)?",
                    explanation: "Installers will choose this release again.",
                    action: here,
                    button: "Unyank release",
                    askReason: false,
                    back: releasePage
                )
            case .deleteRelease:
                html = FormPages.confirm(
                    visitor: call.visitor,
                    title: "Delete \(label)?",
                    explanation: "Every file of this release is deleted for good. Its name stays reserved to this project.",
                    action: here,
                    button: "Delete release",
                    askReason: false,
                    back: releasePage
                )
            case .deleteFile(let id):
                guard let file = release.files.first(where: { $0.id == id }) else { throw RegistryError.notFound("404 Not Found") }
                html = FormPages.confirm(
                    visitor: call.visitor,
                    title: "Delete \(file.fileName)?",
                    explanation: "This file is deleted for good.",
                    action: here,
                    button: "Delete file",
                    askReason: false,
                    back: releasePage
                )
            }
            return self.page(html, call)
        }
        switch action {
        case .yank, .unyank:
            let reason = String((form["reason"] ?? "").prefix(1000))
            _ = try await self.services.access.authorizedProject(String(project.id), for: call.principal, action: .manage)
            _ = try await self.services.maintenance.setYank(
                action == .yank ? Yank(reason: reason) : nil,
                project: project,
                name: package.normalizedName,
                version: release.package.version,
                fileName: nil,
                author: call.author
            )
            return WebResponse.redirect(to: releasePage)
        case .deleteRelease:
            try await self.services.management.deletePackage(
                call.principal,
                project: String(project.id),
                id: release.package.id,
                author: call.author
            )
            return WebResponse.redirect(
                to: package.releases.count > 1
                    ? IndexURLs.packagePage(project: project.pathWithNamespace, name: package.normalizedName) : "/\(project.pathWithNamespace)"
            )
        case .deleteFile(let id):
            try await self.services.management.deletePackageFile(
                call.principal,
                project: String(project.id),
                packageID: release.package.id,
                fileID: id,
                author: call.author
            )
            // The last file of a release takes the release with it.
            guard release.files.count <= 1 else { return WebResponse.redirect(to: releasePage) }
            return WebResponse.redirect(
                to: package.releases.count > 1
                    ? IndexURLs.packagePage(project: project.pathWithNamespace, name: package.normalizedName) : "/\(project.pathWithNamespace)"
            )
        }
    }
}
