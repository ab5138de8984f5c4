import Hummingbird
import Registry
import WireHTTP1

/// GitLab's PyPI API: each route's scope (a project, or the projects below a group) is resolved and
/// authorised once, then the endpoint is answered by its handler.
struct PyPIEndpoints: Sendable {
    let services: RegistryServices
    /// Rendered simple pages, valid while the projects they show are unchanged; nil for a name
    /// they have no package of (remembered too: an upstream name asks the database once).
    let pages: VersionedCache<RenderedPage?>
    /// Rendered upstream pages, valid while the upstream page they show is the same. Few: some are
    /// megabytes, and a miss costs only a render of the page held by `UpstreamPages`.
    let upstreamPages: VersionedCache<RenderedPage>
    let metrics: RegistryMetrics
    let maxUploadSize: Int64

    init(services: RegistryServices, metrics: RegistryMetrics = .disabled, maxUploadSize: Int64) {
        self.services = services
        self.metrics = metrics
        self.maxUploadSize = maxUploadSize
        self.pages = VersionedCache<RenderedPage?>(counting: metrics.simplePages)
        self.upstreamPages = VersionedCache<RenderedPage>(capacity: 64, counting: metrics.upstreamPages)
    }

    func respond(to route: PyPIRoute, _ request: Request, context: RegistryRequestContext, baseURL: String) async throws -> Response {
        let principal = context.principal
        switch (route.endpoint, route.scope) {
        case (.upload, .project(let reference)):
            let project = try await self.services.access.authorizedProject(reference.value, for: principal, action: .upload)
            return try await UploadHandler(publisher: self.services.publisher, metrics: self.metrics, maxUploadSize: self.maxUploadSize)
                .handle(request, project: project, author: AuditAuthor(principal, ipAddress: context.remoteAddress))
        case (.yank(let undo), .project(let reference)):
            let project = try await self.services.access.authorizedProject(reference.value, for: principal, action: .manage)
            return try await YankHandler(maintenance: self.services.maintenance).handle(
                request,
                project: project,
                undo: undo,
                author: AuditAuthor(principal, ipAddress: context.remoteAddress)
            )
        case (.read(let read), let scope):
            let scope = try await self.resolve(scope, for: principal)
            let reads = PyPIReadHandlers(
                reader: self.services.reader,
                pages: self.pages,
                request: request,
                baseURL: baseURL,
                upstream: UpstreamReads(services: self.services, pages: self.upstreamPages, maxFileSize: self.maxUploadSize, metrics: self.metrics)
            )
            return try await self.replayable(showing: scope.projects, request: request, context: context) {
                try await reads.respond(to: read, over: scope)
            }
        case (.upload, .group), (.yank, .group):
            // `PyPIRoute` has no such routes: a group takes neither uploads nor yanks.
            throw RegistryError.notFound("404 Not Found")
        }
    }

    /// The projects a read is over, if the caller may read them.
    private func resolve(_ scope: PyPIRoute.Scope, for principal: Principal) async throws -> ReadScope {
        switch scope {
        case .project(let reference):
            let project = try await self.services.access.authorizedProject(reference.value, for: principal, action: .read)
            return ReadScope(
                projects: [project],
                title: project.name,
                root: "projects/\(reference.raw)/packages/pypi",
                audience: .init(project: project),
                forwarding: .project(project)
            )
        case .group(let reference):
            let (group, projects) = try await self.services.access.authorizedGroup(reference.value, for: principal)
            // Group answers depend on who asks.
            return ReadScope(
                projects: projects,
                title: group.name,
                root: "groups/\(reference.raw)/-/packages/pypi",
                audience: .caller,
                forwarding: .group(group)
            )
        }
    }

    /// Runs a read and, when a GET got a full, partial or not-modified answer, marks it for the wire
    /// layer's `ReplayHandler` with the projects' versions as read before the answer was made (so
    /// the mark can only be older than the data, never newer). An answer sent from a file is marked
    /// too; `ReplayHandler` does not keep what it sends as a file region.
    private func replayable(
        showing projects: [Project],
        request: Request,
        context: RegistryRequestContext,
        _ read: () async throws -> Response
    ) async throws -> Response {
        guard request.method == .get else { return try await read() }
        let versions = try await self.services.reader.packagesVersions(of: projects)
        var response = try await read()
        // An upstream page is kept for replay only when it was a cache hit, so that the
        // `Wheelhouse-Upstream` a replay repeats is still true.
        let upstreamSource = response.headers[.wheelhouseUpstream]
        if [.ok, .partialContent, .notModified].contains(response.status), upstreamSource == nil || upstreamSource == "hit",
            let mark = ReplayableAnswer(
                projects: projects.map(\.id),
                versions: versions,
                caller: context.principal.logDescription,
                generation: context.replayGeneration
            )
        {
            response.headers.setInternal(mark)
            response.headers.setInternal(RouteLabel(context.caller.route))
        }
        return response
    }
}
