import Hummingbird
import Logging
import Registry

/// The whole HTTP surface: parses the route, authenticates, dispatches, and turns every refusal into
/// GitLab's status codes. Routing is done here on the raw path (not by Hummingbird's router) because
/// GitLab ids may be URL-encoded full paths whose `%2F` must not split a segment.
public struct RegistryResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let packages: PackageService
    /// Rendered simple pages, valid while the projects they show are unchanged.
    let pages = VersionedCache<RenderedPage>()
    let rest: RESTRouter
    /// Answers to reads that `ReplayHandler` may send again.
    let replay: ReplayCache
    let configuration: ServerConfiguration
    let logger: Logger

    init(packages: PackageService, replay: ReplayCache, configuration: ServerConfiguration, logger: Logger) {
        self.packages = packages
        self.rest = RESTRouter.make(ManagementService(packages: packages))
        self.replay = replay
        self.configuration = configuration
        self.logger = logger
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        var principal = Principal.anonymous
        let response: Response
        do {
            response = try await self.dispatch(request, context: context, principal: &principal)
        } catch let error as RegistryError {
            response = ErrorResponse.make(error)
        } catch let error as RESTError {
            response = RESTResponse.json(error.body, status: .badRequest, headers: [ReasonPhrase.header: ReasonPhrase.sanitize(error.summary)])
        } catch is NotAcceptable {
            response = ErrorResponse.make(status: .notAcceptable, message: "406 Not Acceptable: this index serves \(SimpleFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        } catch let error as HTTPError {
            response = ErrorResponse.make(status: error.status, message: error.body ?? "\(error.status.code) \(error.status.reasonPhrase)")
        } catch {
            self.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = ErrorResponse.make(status: .internalServerError, message: "500 Internal Server Error")
        }
        let elapsed = ContinuousClock.now - started
        self.logger.info("\(request.method) \(request.uri.path) \(response.status.code)", metadata: [
            "caller": "\(principal.logDescription)",
            "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
        return response
    }

    private func dispatch(_ request: Request, context: Context, principal: inout Principal) async throws -> Response {
        guard let route = APIRoute(path: Substring(request.uri.path)) else {
            return try await self.dispatchREST(request, principal: &principal)
        }
        if case .health = route { return Self.text("OK\n") }
        guard route.methods.contains(request.method) else { return ErrorResponse.methodNotAllowed(allowed: route.methods) }
        // Read before the caller is authorised: a change made through this server after this point
        // keeps the answer from being replayed (see `ReplayCache.removeAll`).
        let generation = self.replay.generation
        principal = try await self.authenticate(request).principal

        let reads = PyPIReadHandlers(packages: self.packages, pages: self.pages, request: request, baseURL: self.baseURL(for: request))
        /// A read route: the projects its answer shows, and how to make it.
        let read: (projects: [Project], answer: () async throws -> Response)
        switch route {
        case .health:
            return Self.text("OK\n")
        case .projectUpload(let reference):
            let project = try await self.packages.authorizedProject(reference.value, for: principal, action: .upload)
            return try await UploadHandler(packages: self.packages, maxUploadSize: self.configuration.maxUploadSize)
                .handle(request, project: project)
        case .projectYank(let reference, let undo):
            let project = try await self.packages.authorizedProject(reference.value, for: principal, action: .manage)
            return try await YankHandler(packages: self.packages).handle(request, project: project, undo: undo)
        case .projectIndex(let reference):
            let project = try await self.packages.authorizedProject(reference.value, for: principal, action: .read)
            read = ([project], { try await reads.index(title: project.name, projects: [project], root: Self.projectRoot(reference), audience: .init(project: project)) })
        case .projectPackage(let reference, let name):
            let project = try await self.packages.authorizedProject(reference.value, for: principal, action: .read)
            read = ([project], { try await reads.package(name, projects: [project], root: Self.projectRoot(reference), audience: .init(project: project)) })
        case .projectFile(let reference, let sha256, let fileName):
            let project = try await self.packages.authorizedProject(reference.value, for: principal, action: .read)
            read = ([project], { try await reads.file(sha256: sha256, fileName: fileName, projects: [project], audience: .init(project: project)) })
        case .projectFileMetadata(let reference, let sha256, let fileName):
            let project = try await self.packages.authorizedProject(reference.value, for: principal, action: .read)
            read = ([project], { try await reads.coreMetadata(sha256: sha256, fileName: fileName, projects: [project], audience: .init(project: project)) })
        case .groupIndex(let reference):
            let (group, projects) = try await self.packages.authorizedGroup(reference.value, for: principal)
            read = (projects, { try await reads.index(title: group.name, projects: projects, root: Self.groupRoot(reference), audience: .caller) })
        case .groupPackage(let reference, let name):
            let (_, projects) = try await self.packages.authorizedGroup(reference.value, for: principal)
            read = (projects, { try await reads.package(name, projects: projects, root: Self.groupRoot(reference), audience: .caller) })
        case .groupFile(let reference, let sha256, let fileName):
            let (_, projects) = try await self.packages.authorizedGroup(reference.value, for: principal)
            read = (projects, { try await reads.file(sha256: sha256, fileName: fileName, projects: projects, audience: .caller) })
        case .groupFileMetadata(let reference, let sha256, let fileName):
            let (_, projects) = try await self.packages.authorizedGroup(reference.value, for: principal)
            read = (projects, { try await reads.coreMetadata(sha256: sha256, fileName: fileName, projects: projects, audience: .caller) })
        }
        return try await self.replayable(read.answer, showing: read.projects, generation: generation, principal: principal, request: request)
    }

    /// Runs a read and, when a GET got a full, partial or not-modified answer, marks it for
    /// `ReplayHandler` with the projects' versions as read before the answer was made (so the mark
    /// can only be older than the data, never newer). An answer sent from a file is marked too;
    /// `ReplayHandler` does not keep what it sends as a file region.
    private func replayable(
        _ read: () async throws -> Response, showing projects: [Project], generation: Int, principal: Principal, request: Request
    ) async throws -> Response {
        guard request.method == .get else { return try await read() }
        let versions = try await self.packages.packagesVersions(of: projects)
        var response = try await read()
        let marker = ReplayCache.Marker(
            projects: projects.map(\.id), versions: versions, caller: principal.logDescription, generation: generation
        )
        if [.ok, .partialContent, .notModified].contains(response.status), let value = marker.value {
            response.headers[ReplayCache.marker] = value
        }
        return response
    }

    /// GitLab's REST API: everything under `/api/v4` that is not the PyPI API.
    private func dispatchREST(_ request: Request, principal: inout Principal) async throws -> Response {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        guard segments.count > 2, segments[0] == "api", segments[1] == "v4" else { throw RegistryError.notFound("404 Not Found") }
        switch self.rest.match(method: request.method, rawSegments: Array(segments.dropFirst(2))) {
        case .none:
            throw RegistryError.notFound("404 Not Found")
        case .wrongMethod(let allowed):
            return ErrorResponse.methodNotAllowed(allowed: allowed)
        case .found(let route, let parameters):
            let credential: Credential?
            (credential, principal) = try await self.authenticate(request)
            let call = try await RESTCall.make(
                request, principal: principal, credential: credential, pathParameters: parameters,
                externalBase: String(self.baseURL(for: request).dropLast("/api/v4".count))
            )
            // Anything the REST API changes may change who may do what: apply it at once, even when
            // the handler fails after its transaction committed.
            defer {
                if request.method != .get && request.method != .head {
                    self.packages.forgetCachedDecisions()
                    self.replay.removeAll()
                }
            }
            return try await route.handler(call)
        }
    }

    /// The credential a request presents (any of GitLab's ways) and who it makes the caller; an
    /// unreadable `Authorization` header counts as bad credentials.
    private func authenticate(_ request: Request) async throws -> (credential: Credential?, principal: Principal) {
        let credential: Credential?
        do { credential = try CredentialExtraction.credential(from: request.headers) } catch {
            throw RegistryError.unauthenticated
        }
        let reading = request.method == .get || request.method == .head
        return (credential, try await self.packages.access.authenticate(credential, forReading: reading))
    }

    private static func projectRoot(_ reference: PathReference) -> String { "projects/\(reference.raw)/packages/pypi" }
    private static func groupRoot(_ reference: PathReference) -> String { "groups/\(reference.raw)/-/packages/pypi" }

    /// The URL prefix links are built on: the configured external URL, or this request's host.
    private func baseURL(for request: Request) -> String {
        if let external = self.configuration.externalURL { return external + "/api/v4" }
        let fallback = "\(self.configuration.host):\(self.configuration.port)"
        // Only a plausible host[:port] is echoed into links.
        let host = request.head.authority.flatMap { authority in
            authority.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x3A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
            } && !authority.isEmpty ? authority : nil
        } ?? fallback
        return "http://\(host)/api/v4"
    }

    static func text(_ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.contentLength] = String(body.utf8.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
