import Hummingbird
import Registry

/// The read side of GitLab's PyPI API: simple index pages and file downloads.
struct PyPIReadHandlers {
    let packages: PackageService
    /// `http(s)://host/api/v4`
    let baseURL: String
    let isHead: Bool

    func index(title: String, projects: [Project], root: String) async throws -> Response {
        let listed = try await self.packages.index(of: projects)
        let html = SimplePages(baseURL: "\(self.baseURL)/\(root)").index(title: title, packages: listed)
        return self.html(html)
    }

    func package(_ name: String, projects: [Project], root: String) async throws -> Response {
        let files = try await self.packages.files(of: name, in: projects)
        guard let first = files.first else { throw RegistryError.notFound("404 Package Not Found") }
        let html = SimplePages(baseURL: "\(self.baseURL)/\(root)").package(name: first.package.name, files: files)
        return self.html(html)
    }

    func file(sha256: String, fileName: String, projects: [Project], context: some RequestContext) async throws -> Response {
        let (file, path) = try await self.packages.download(sha256: sha256, fileName: fileName, in: projects)
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.contentLength] = String(file.size)
        headers[.eTag] = "\"\(file.digests.sha256)\""
        headers[.contentDisposition] = "attachment; filename=\"\(file.fileName)\""
        if self.isHead { return Response(status: .ok, headers: headers, body: .init()) }
        let body = try await FileIO(threadPool: .singleton).loadFile(path: path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    private func html(_ page: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentLength] = String(page.utf8.count)
        let body: ResponseBody = self.isHead ? .init() : .init(byteBuffer: ByteBuffer(string: page))
        return Response(status: .ok, headers: headers, body: body)
    }
}
