import HTTPTypes
import Hummingbird
import PythonPackaging
import Registry
import WireHTTP1

/// What the read handlers need for names and files that come from the upstream index (issue 12).
struct UpstreamReads: Sendable {
    let services: RegistryServices
    /// Upstream pages as rendered, keyed by the page's generation, format and base URL.
    let pages: VersionedCache<RenderedPage>
    /// Upstream files are held to the same limit as uploads.
    let maxFileSize: Int64
    let metrics: RegistryMetrics

    /// Counts a page answer: a hit asked nothing upstream; every other source asked once.
    func count(_ source: UpstreamPages.Source) {
        switch source {
        case .hit: self.metrics.upstreamHits.increment()
        case .revalidated:
            self.metrics.upstreamHits.increment()
            self.metrics.upstreamFetches.increment()
        case .miss:
            self.metrics.upstreamMisses.increment()
            self.metrics.upstreamFetches.increment()
        case .stale:
            self.metrics.upstreamStale.increment()
            self.metrics.upstreamFetches.increment()
        }
    }

    /// Counts a file answer: from the store (a hit) or fetched from the upstream (a miss).
    func countFile(fetched: Bool) {
        if fetched {
            self.metrics.upstreamMisses.increment()
            self.metrics.upstreamFetches.increment()
        } else {
            self.metrics.upstreamHits.increment()
        }
    }
}

/// `simple/:name` and `files/...` for what no local package of the scope has: forwarded only as
/// `ForwardingPolicy` allows (never a name the scope has or had), as a redirect or from the cache.
extension PyPIReadHandlers {
    /// The upstream's answer for a project name, or nil when the name does not forward (a 404).
    func forwardedPackage(_ normalizedName: String, _ scope: ReadScope) async throws -> Response? {
        let services = self.upstream.services
        switch try await services.forwarding.forwarding(of: normalizedName, for: scope.forwarding) {
        case .none:
            return nil
        case .redirect(let location):
            var headers = HTTPFields()
            headers[.location] = location
            headers[.cacheControl] = "private, no-store"
            return Response(status: .found, headers: headers)
        case .cache(let index):
            let format = try self.negotiatedFormat()
            let answer = try await services.upstreamPages.page(of: normalizedName, from: index)
            self.upstream.count(answer.source)
            let base = "\(self.baseURL)/\(scope.root)"
            let key = "\(normalizedName)|\(format.rawValue)|\(base)|\(answer.generation)"
            let page = try await self.upstream.pages.value(for: key, versions: [:]) {
                let files = answer.page.files.map(SimpleFile.init)
                let body =
                    format == .json
                    ? SimpleJSON(baseURL: base).package(normalizedName: normalizedName, versions: answer.page.versions, files: files)
                    : SimplePages(baseURL: base).package(name: normalizedName, files: files)
                return RenderedPage(body, as: format)
            }
            var response = self.respond(page, audience: scope.audience)
            response.headers[.wheelhouseUpstream] = answer.source.rawValue
            if answer.source == .stale { response.headers[.warning] = "110 - \"Response is Stale\"" }
            return response
        }
    }

    /// An upstream file (or its core metadata) listed by a cached page, or nil when its project
    /// does not forward in cache mode (a 404).
    func forwardedFile(sha256: String, fileName: String, coreMetadata: Bool, _ scope: ReadScope) async throws -> Response? {
        let services = self.upstream.services
        guard let parsed = try? DistributionFilename(parsing: fileName),
            case .cache(let index) = try await services.forwarding.forwarding(of: parsed.name.normalized, for: scope.forwarding)
        else { return nil }
        let files = services.upstreamFiles
        let location = try await files.locate(sha256: sha256, filename: fileName, coreMetadata: coreMetadata)
        var headers = HTTPFields()
        if coreMetadata {
            headers[.contentType] = "text/plain; charset=utf-8"
        } else {
            headers[.contentType] = "application/octet-stream"
            headers[.contentDisposition] = "attachment; filename=\"\(fileName)\""
        }
        let limit = coreMetadata ? UpstreamFiles.maximumMetadataSize : self.upstream.maxFileSize
        if let stored = try await files.stored(location) {
            self.upstream.countFile(fetched: false)
            return try await self.blob(size: stored.size, sha256: stored.sha256, headers: headers, audience: scope.audience)
        }
        // A small file, a HEAD, a range or a file another request is fetching: fetched whole first,
        // then answered from the store (a wrong file is then a clean 502).
        let streams =
            !coreMetadata && !self.isHead && self.request.headers[.range] == nil && (location.expectedSize ?? .max) > FileBody.largestInMemory
        self.upstream.countFile(fetched: true)
        guard streams, let download = try await files.download(location, index: index, maximumSize: limit) else {
            let stored = try await files.fetched(location, index: index, maximumSize: limit)
            return try await self.blob(size: stored.size, sha256: stored.sha256, headers: headers, audience: scope.audience)
        }
        // The first request for a large file: it streams to the client as it arrives.
        headers[.eTag] = EntityTag(opaque: location.sha256).headerValue
        headers[.cacheControl] = scope.audience.fileCacheControl
        headers[.acceptRanges] = "bytes"
        headers[.wheelhouseUpstream] = "miss"
        let body: ResponseBody
        if let length = download.contentLength {
            headers[.contentLength] = String(length)
            body = ResponseBody(contentLength: Int(length)) { writer in
                try await download.stream { try await writer.write($0) }
                try await writer.finish(nil)
            }
        } else {
            body = ResponseBody { writer in
                try await download.stream { try await writer.write($0) }
                try await writer.finish(nil)
            }
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

extension HTTPField.Name {
    /// How an upstream answer was obtained: `hit`, `miss`, `revalidated` or `stale`.
    static let wheelhouseUpstream = Self("Wheelhouse-Upstream")!
    static let warning = Self("Warning")!
}
