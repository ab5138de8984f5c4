import Hummingbird
import PythonPackaging
import Registry
import WireHTTP1

/// The read side of the PyPI API: simple pages in HTML or JSON, files and their core metadata, with
/// conditional and range requests.
struct PyPIReadHandlers {
    let reader: PackageReader
    let pages: VersionedCache<RenderedPage?>
    let request: Request
    /// `http(s)://host/api/v4`
    let baseURL: String
    /// Names and files no local package has, from the upstream index when forwarding allows.
    let upstream: UpstreamReads

    var isHead: Bool { self.request.method == .head }

    /// Answers a read route over `scope`.
    func respond(to read: PyPIRoute.Read, over scope: ReadScope) async throws -> Response {
        switch read {
        case .index: try await self.index(scope)
        case .package(let name): try await self.package(name, scope)
        case .file(let sha256, let fileName): try await self.file(sha256: sha256, fileName: fileName, scope)
        case .coreMetadata(let sha256, let fileName): try await self.coreMetadata(sha256: sha256, fileName: fileName, scope)
        }
    }

    private func index(_ scope: ReadScope) async throws -> Response {
        let format = try self.negotiatedFormat()
        let base = "\(self.baseURL)/\(scope.root)"
        let page = try await self.cachedPage(key: "index|\(scope.title)", base: base, format: format, projects: scope.projects) {
            let listed = try await self.reader.index(of: scope.projects)
            return format == .json
                ? SimpleJSON(baseURL: base).index(packages: listed)
                : SimplePages(baseURL: base).index(title: scope.title, packages: listed)
        }
        // An index always renders, if only as an empty list.
        guard let page else { throw RegistryError.notFound("404 Not Found") }
        return self.respond(page, audience: scope.audience)
    }

    /// A package's page: its local files, else (when no project of the scope has the name) what
    /// forwarding gives, else 404.
    private func package(_ name: String, _ scope: ReadScope) async throws -> Response {
        let format = try self.negotiatedFormat()
        let base = "\(self.baseURL)/\(scope.root)"
        let page = try await self.cachedPage(key: "package|\(ProjectName.normalize(name))", base: base, format: format, projects: scope.projects) {
            let files = try await self.reader.files(of: name, in: scope.projects)
            guard let first = files.first else { return nil }
            return format == .json
                ? SimpleJSON(baseURL: base).package(
                    normalizedName: first.package.normalizedName,
                    versions: SimpleJSON.versions(of: files),
                    files: files.map(SimpleFile.init)
                )
                : SimplePages(baseURL: base).package(name: first.package.name, files: files.map(SimpleFile.init))
        }
        if let page { return self.respond(page, audience: scope.audience) }
        guard let forwarded = try await self.forwardedPackage(ProjectName.normalize(name), scope) else {
            throw RegistryError.notFound("404 Package Not Found")
        }
        return forwarded
    }

    /// The page from the cache when none of its projects changed since it was rendered, else rendered
    /// afresh (the versions are read before the data, see `VersionedCache`).
    private func cachedPage(
        key: String,
        base: String,
        format: SimpleFormat,
        projects: [Project],
        render: () async throws -> String?
    ) async throws -> RenderedPage? {
        let versions = try await self.reader.packagesVersions(of: projects)
        let cacheKey = "\(key)|\(format.rawValue)|\(base)|\(projects.map { String($0.id) }.joined(separator: ","))"
        return try await self.pages.value(for: cacheKey, versions: versions) {
            guard let body = try await render() else { return nil }
            return RenderedPage(body, as: format)
        }
    }

    private func file(sha256: String, fileName: String, _ scope: ReadScope) async throws -> Response {
        let file: PackageFile
        do {
            file = try await self.reader.download(sha256: sha256, fileName: fileName, in: scope.projects)
        } catch RegistryError.notFound(let message) {
            guard let forwarded = try await self.forwardedFile(sha256: sha256, fileName: fileName, coreMetadata: false, scope) else {
                throw RegistryError.notFound(message)
            }
            return forwarded
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.lastModified] = HTTPDate.format(secondsSinceEpoch: file.uploadedAt.secondsSinceEpoch)
        headers[.contentDisposition] = "attachment; filename=\"\(file.fileName)\""
        // A client that has the file (If-None-Match) gets its 304 here, not a trip to the store.
        if !self.isHead, !EntityTag.ifNoneMatch(self.request.headers[.ifNoneMatch], matches: EntityTag(opaque: file.digests.sha256)),
            let url = self.reader.downloadURL(ofBlob: file.digests.sha256, fileName: file.fileName)
        {
            return Self.redirect(to: url)
        }
        return try await self.blob(size: file.size, sha256: file.digests.sha256, headers: headers, audience: scope.audience)
    }

    private func coreMetadata(sha256: String, fileName: String, _ scope: ReadScope) async throws -> Response {
        let metadata: BlobReference
        do {
            metadata = try await self.reader.coreMetadata(sha256: sha256, fileName: fileName, in: scope.projects)
        } catch RegistryError.notFound(let message) {
            guard let forwarded = try await self.forwardedFile(sha256: sha256, fileName: fileName, coreMetadata: true, scope) else {
                throw RegistryError.notFound(message)
            }
            return forwarded
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return try await self.blob(size: metadata.size, sha256: metadata.sha256, headers: headers, audience: scope.audience)
    }

    // MARK: Pieces

    /// A file GET answered by the object store itself (`--s3-download redirect`), after the same
    /// checks as a download. Not cached: the presigned URL expires.
    static func redirect(to url: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = url
        headers[.cacheControl] = "no-store"
        return Response(status: .found, headers: headers)
    }

    func negotiatedFormat() throws -> SimpleFormat {
        // Most requests have no query: skip parsing one (Hummingbird's goes through URLComponents).
        let hasQuery = self.request.head.path?.utf8.contains(UInt8(ascii: "?")) ?? false
        let formatParameter = hasQuery ? self.request.uri.queryParameters["format"].map(String.init) : nil
        guard let format = ContentNegotiation.choose(accept: self.request.headers[.accept], formatParameter: formatParameter) else {
            throw NotAcceptable()
        }
        return format
    }

    /// A page with a strong ETag of its bytes, answering `If-None-Match` with 304.
    func respond(_ page: RenderedPage, audience: Audience) -> Response {
        var headers = HTTPFields()
        headers[.vary] = "Accept"
        headers[.eTag] = page.entityTag.headerValue
        headers[.cacheControl] = audience.pageCacheControl
        if EntityTag.ifNoneMatch(self.request.headers[.ifNoneMatch], matches: page.entityTag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = page.contentType
        headers[.contentLength] = String(page.body.readableBytes)
        return Response(status: .ok, headers: headers, body: self.isHead ? .init() : .init(byteBuffer: page.body))
    }

    /// Stored content named by its sha256: ETag, `If-None-Match`, `Range` (206/416) and `HEAD`.
    func blob(size: Int64, sha256: String, headers: HTTPFields, audience: Audience) async throws -> Response {
        var headers = headers
        let tag = EntityTag(opaque: sha256)
        headers[.eTag] = tag.headerValue
        headers[.cacheControl] = audience.fileCacheControl
        headers[.acceptRanges] = "bytes"
        if EntityTag.ifNoneMatch(self.request.headers[.ifNoneMatch], matches: tag) {
            return Response(status: .notModified, headers: headers)
        }
        // A range applies only to the representation the client has (If-Range), or to any when it names none.
        var rangeHeader = self.request.headers[.range]
        if let ifRange = self.request.headers[.ifRange], ifRange != tag.headerValue { rangeHeader = nil }

        switch ByteRangeRequest.parse(rangeHeader, length: size) {
        case .whole:
            headers[.contentLength] = String(size)
            if self.isHead || size == 0 { return Response(status: .ok, headers: headers) }
            return try await self.answer(.ok, headers: headers, sha256: sha256, range: 0...(size - 1))
        case .partial(let range):
            headers[.contentRange] = ByteRangeRequest.contentRange(range, length: size)
            headers[.contentLength] = String(range.upperBound - range.lowerBound + 1)
            if self.isHead { return Response(status: .partialContent, headers: headers) }
            return try await self.answer(.partialContent, headers: headers, sha256: sha256, range: range)
        case .unsatisfiable:
            headers[.contentRange] = ByteRangeRequest.unsatisfiedContentRange(length: size)
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
    }
}

extension PyPIReadHandlers {
    /// An answer carrying `range` of a blob: a small one read into memory (where it can be
    /// replayed); a larger one sent from its file with sendfile by `FileBody.Writer`, or, from a
    /// store whose blobs are not local files, read and sent a chunk at a time (memory stays bounded).
    func answer(_ status: HTTPResponse.Status, headers: HTTPFields, sha256: String, range: ClosedRange<Int64>) async throws -> Response {
        if range.upperBound - range.lowerBound + 1 <= FileBody.largestInMemory {
            let bytes = try await self.reader.bytes(ofBlob: sha256, range: range)
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: bytes))
        }
        guard self.reader.localPath(ofBlob: sha256) != nil else {
            // The store is asked before the head is sent, so a missing blob is still a clean 404
            // and a store that is down a clean 503.
            let chunks = try await self.reader.chunks(ofBlob: sha256, range: range)
            let body = ResponseBody(contentLength: Int(range.upperBound - range.lowerBound + 1)) { writer in
                for try await chunk in chunks { try await writer.write(chunk) }
                try await writer.finish(nil)
            }
            return Response(status: status, headers: headers, body: body)
        }
        var headers = headers
        headers.setInternal(FileBodyRange(sha256: sha256, range: range))
        return Response(status: status, headers: headers)
    }
}

/// A simple page as sent: its bytes, their strong entity tag and media type.
struct RenderedPage: Sendable {
    var body: ByteBuffer
    var entityTag: EntityTag
    var contentType: String

    /// A page as rendered in `format`, with the strong entity tag of its bytes.
    init(_ body: String, as format: SimpleFormat) {
        self.body = ByteBuffer(string: body)
        self.entityTag = EntityTag(opaque: ContentHash.sha256(body.utf8))
        self.contentType = format == .legacyHTML ? "text/html; charset=utf-8" : format.rawValue
    }
}
