import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PythonPackaging

/// An upstream file (or its PEP 658 core metadata) that a cached page lists.
public struct UpstreamFileLocation: Sendable, Equatable {
    /// The sha256 the bytes must have: the file's, or its core metadata's.
    public var sha256: String
    public var url: String
    public var filename: String
    /// What the page says its size is, when it says.
    public var expectedSize: Int64?
    public var uploadTime: String?
}

/// Upstream files kept in the blob store under their sha256, and only when the bytes match it. The
/// first request for a file streams it to the client while it is hashed and stored; requests
/// arriving meanwhile wait for it (one fetch per instance); every later request, on any instance
/// sharing the store, is served from the store like a local file.
public final class UpstreamFiles: Sendable {
    /// The core metadata of one file is small; a larger "metadata" answer is refused.
    public static let maximumMetadataSize: Int64 = 16 * 1024 * 1024

    let store: MetadataStore
    let blobs: any BlobStore
    let client: UpstreamClient?
    let pages: UpstreamPages
    let logger: Logger
    /// Fetches running in this process, by sha256, with whoever waits for them.
    private let running = NIOLockedValueBox<[String: [CheckedContinuation<Void, Never>]]>([:])

    init(store: MetadataStore, blobs: any BlobStore, client: UpstreamClient?, pages: UpstreamPages, logger: Logger) {
        self.store = store
        self.blobs = blobs
        self.client = client
        self.pages = pages
        self.logger = logger
    }

    /// Finds a file of a cached upstream project page: `filename` must name a distribution of the
    /// project, and the page, as a `simple/:name` request cached it, must list it with this sha256.
    /// 404 otherwise: a file route never makes the upstream be asked for a page.
    public func locate(sha256: String, filename: String, coreMetadata: Bool) async throws -> UpstreamFileLocation {
        guard let parsed = try? DistributionFilename(parsing: filename) else { throw RegistryError.notFound("404 Package File Not Found") }
        guard let page = try await self.pages.cachedPage(of: parsed.name.normalized),
            let file = page.file(sha256: sha256.lowercased(), filename: filename)
        else {
            throw RegistryError.notFound("404 Package File Not Found")
        }
        if coreMetadata {
            guard let metadata = file.coreMetadataSHA256 else { throw RegistryError.notFound("404 Metadata Not Found") }
            return UpstreamFileLocation(
                sha256: metadata,
                url: file.url + ".metadata",
                filename: filename,
                expectedSize: nil,
                uploadTime: file.uploadTime
            )
        }
        return UpstreamFileLocation(sha256: file.sha256, url: file.url, filename: filename, expectedSize: file.size, uploadTime: file.uploadTime)
    }

    /// The stored blob of a located file, if it has been fetched (here or by another instance).
    public func stored(_ location: UpstreamFileLocation) async throws -> BlobReference? {
        try await self.blobs.size(ofSHA256: location.sha256).map { BlobReference(sha256: location.sha256, size: $0) }
    }

    /// Makes sure the file is in the store, fetching it (or waiting for this process's fetch of it)
    /// when it is not.
    public func fetched(_ location: UpstreamFileLocation, index: UpstreamIndex, maximumSize: Int64) async throws -> BlobReference {
        for _ in 0..<3 {
            if let stored = try await self.stored(location) { return stored }
            guard let download = try await self.download(location, index: index, maximumSize: maximumSize) else {
                await self.waitForRunningFetch(of: location.sha256)
                continue
            }
            try await download.stream { _ in }
        }
        if let stored = try await self.stored(location) { return stored }
        throw RegistryError.upstreamFailed("502 Bad Gateway: \(location.filename) could not be fetched from the upstream index")
    }

    /// Starts fetching a file, or nil when this process is already fetching it (`fetched` waits
    /// for that one). The download must be streamed to its end or it is abandoned.
    public func download(_ location: UpstreamFileLocation, index: UpstreamIndex, maximumSize: Int64) async throws -> UpstreamDownload? {
        let claimed = self.running.withLockedValue { running in
            guard running[location.sha256] == nil else { return false }
            running[location.sha256] = []
            return true
        }
        guard claimed else { return nil }
        do {
            guard let client = self.client else { throw UpstreamFailure.badAnswer("no upstream client is configured") }
            if let expected = location.expectedSize, expected > maximumSize {
                throw UpstreamFailure.badAnswer("\(location.filename) is \(expected) bytes, more than the \(maximumSize) this registry accepts")
            }
            let response = try await client.file(location.url, from: index)
            let length = response.headers.first(name: "Content-Length").flatMap(Int64.init)
            if let length, length > maximumSize {
                throw UpstreamFailure.badAnswer("\(location.filename) is \(length) bytes, more than the \(maximumSize) this registry accepts")
            }
            let upload = try await self.blobs.makeUpload()
            return UpstreamDownload(
                location: location,
                response: response,
                contentLength: length,
                maximumSize: maximumSize,
                upload: upload,
                files: self
            )
        } catch let failure as UpstreamFailure {
            self.finish(location.sha256)
            throw failure.registryError
        } catch {
            self.finish(location.sha256)
            throw error
        }
    }

    /// Returns when this process's running fetch of the blob (if any) has ended, well or not.
    private func waitForRunningFetch(of sha256: String) async {
        await withCheckedContinuation { continuation in
            let waiting = self.running.withLockedValue { running in
                guard running[sha256] != nil else { return false }
                running[sha256]!.append(continuation)
                return true
            }
            if !waiting { continuation.resume() }
        }
    }

    fileprivate func finish(_ sha256: String) {
        let waiters = self.running.withLockedValue { $0.removeValue(forKey: sha256) } ?? []
        for waiter in waiters { waiter.resume() }
    }

    fileprivate func keep(_ upload: BlobUpload, as location: UpstreamFileLocation, size: Int64) async throws {
        try await self.blobs.transfer(upload, sha256: location.sha256)
        try await self.blobs.commit(upload, sha256: location.sha256)
        try await self.store.recordUpstreamBlob(sha256: location.sha256, size: size)
        self.logger.info("cached an upstream file", metadata: ["file": "\(location.filename)", "sha256": "\(location.sha256)", "bytes": "\(size)"])
    }
}

/// One upstream file on its way: its bytes go to the client and to a temporary blob as they come,
/// and the blob is kept only if they hash to the expected sha256. The last chunk is held back until
/// then, so a client never receives a complete wrong file: on a mismatch the stream ends with an error
/// (the connection is cut short) and nothing is stored.
public final class UpstreamDownload: @unchecked Sendable {
    public let location: UpstreamFileLocation
    /// The upstream's Content-Length, when it sent one.
    public let contentLength: Int64?
    private let response: HTTPClientResponse
    private let maximumSize: Int64
    private let upload: BlobUpload
    private let files: UpstreamFiles
    private var finished = false

    fileprivate init(
        location: UpstreamFileLocation,
        response: HTTPClientResponse,
        contentLength: Int64?,
        maximumSize: Int64,
        upload: BlobUpload,
        files: UpstreamFiles
    ) {
        self.location = location
        self.response = response
        self.contentLength = contentLength
        self.maximumSize = maximumSize
        self.upload = upload
        self.files = files
    }

    deinit {
        if !self.finished {
            self.upload.discard()
            self.files.finish(self.location.sha256)
        }
    }

    /// Reads the whole file, handing each chunk to `send` (the last one only once verified), then
    /// stores it (a failure to store is logged, not thrown: the client has its verified file). Throws,
    /// having stored nothing, when the bytes are wrong, too many, or stop coming.
    public func stream(_ send: (ByteBuffer) async throws -> Void) async throws {
        defer {
            self.finished = true
            self.upload.discard()
            self.files.finish(self.location.sha256)
        }
        var held: ByteBuffer?
        var size: Int64 = 0
        do {
            for try await chunk in self.response.body {
                size += Int64(chunk.readableBytes)
                guard size <= self.maximumSize else {
                    throw UpstreamFailure.badAnswer("\(self.location.filename) is larger than the \(self.maximumSize) bytes this registry accepts")
                }
                try await self.upload.append(chunk)
                if let previous = held { try await send(previous) }
                held = chunk
            }
        } catch let failure as UpstreamFailure {
            throw failure.registryError
        } catch let error as HTTPClientError {
            throw UpstreamClient.failure(error, url: self.location.url).registryError
        }
        let digests = try await self.upload.finish()
        guard digests.sha256 == self.location.sha256 else {
            self.files.logger.warning(
                "refused an upstream file whose sha256 does not match its page",
                metadata: ["file": "\(self.location.filename)", "expected": "\(self.location.sha256)", "got": "\(digests.sha256)"]
            )
            throw UpstreamFailure.badAnswer("the bytes of \(self.location.filename) do not match the sha256 its page gives").registryError
        }
        // Verified: the client gets its last bytes now, not after the file reaches the store (a
        // bucket takes as long as the bytes take, and may be down). A file that cannot be kept is
        // fetched again by the next request.
        if let held { try await send(held) }
        do {
            try await self.files.keep(self.upload, as: self.location, size: size)
        } catch {
            self.files.logger.error(
                "could not keep a verified upstream file",
                metadata: ["file": "\(self.location.filename)", "sha256": "\(self.location.sha256)", "error": "\(error)"]
            )
        }
    }
}
