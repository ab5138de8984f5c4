import NIOCore
import PythonPackaging

/// The read side of the package registry: indexes, a package's files, downloads and core
/// metadata, for callers already authorised by `AccessDecisions`.
public struct PackageReader: Sendable {
    let store: MetadataStore
    let blobs: any BlobStore
    /// Projects' packages_version, for `CacheLifetimes.packagesVersions`: every change made through
    /// this process expires it, so its own changes show at once.
    private let versions = ExpiringCache<[ProjectID], [ProjectID: Int64]>(lifetime: CacheLifetimes.packagesVersions)
    /// File lookups for downloads, valid while their projects' packages are unchanged.
    private let downloads = VersionedCache<PackageFile?>()

    init(store: MetadataStore, blobs: any BlobStore, freshness: Freshness) {
        self.store = store
        self.blobs = blobs
        let versions = self.versions
        freshness.onChange { _ in versions.expireAll() }
    }

    /// What cached answers about these projects are checked against; it changes with every upload,
    /// yank and deletion, in the same transaction.
    public func packagesVersions(of projects: [Project]) async throws -> [ProjectID: Int64] {
        let ids = projects.map(\.id)
        return try await self.versions.value(for: ids) { try await self.store.packagesVersions(of: ids) }
    }

    /// The projects' packages_version as last read, if that was within
    /// `CacheLifetimes.packagesVersions`; nil when it must be read again. For answers replayed
    /// without a task (the wire layer's `ReplayCache`).
    public func freshPackagesVersions(of projectIDs: [ProjectID]) -> [ProjectID: Int64]? {
        self.versions.value(for: projectIDs)
    }

    public func index(of projects: [Project]) async throws -> [ListedPackage] {
        try await self.store.listedPackages(in: projects.map(\.id))
    }

    /// The files of a package, whatever form of its name the client asked for.
    public func files(of packageName: String, in projects: [Project]) async throws -> [ListedFile] {
        try await self.store.listedFiles(in: projects.map(\.id), normalizedName: ProjectName.normalize(packageName))
    }

    /// A file by digest and name (its bytes are the blob of its sha256).
    public func download(sha256: String, fileName: String, in projects: [Project]) async throws -> PackageFile {
        let digest = sha256.lowercased()
        let key = "\(projects.map { String($0.id) }.joined(separator: ","))|\(digest)|\(fileName)"
        let found = try await self.downloads.value(for: key, versions: try await self.packagesVersions(of: projects)) {
            try await self.store.file(in: projects.map(\.id), sha256: digest, fileName: fileName)
        }
        guard let file = found else {
            throw RegistryError.notFound("404 Package File Not Found")
        }
        return file
    }

    /// A file's core metadata (PEP 658) as a blob of its own; 404 when the file has none.
    public func coreMetadata(sha256: String, fileName: String, in projects: [Project]) async throws -> BlobReference {
        let file = try await self.download(sha256: sha256, fileName: fileName, in: projects)
        guard let metadata = file.coreMetadata else { throw RegistryError.notFound("404 Metadata Not Found") }
        return metadata
    }

    /// `range` of a blob found by `download` or `coreMetadata`; 404 when it has gone since.
    public func bytes(ofBlob sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer {
        do {
            return try await self.blobs.read(sha256: sha256, range: range)
        } catch  where BlobStoreError.isNotFound(error) {
            throw RegistryError.notFound("404 Package File Not Found")
        }
    }

    /// `range` of a blob as a stream, for one with no local file; 404 when it has gone since.
    public func chunks(ofBlob sha256: String, range: ClosedRange<Int64>) async throws -> BlobChunks {
        do {
            return try await self.blobs.chunks(sha256: sha256, range: range)
        } catch  where BlobStoreError.isNotFound(error) {
            throw RegistryError.notFound("404 Package File Not Found")
        }
    }

    /// Where the client may fetch a file itself (the object store's presigned URL), or nil when
    /// this server sends it.
    public func downloadURL(ofBlob sha256: String, fileName: String) -> String? {
        self.blobs.downloadURL(forSHA256: sha256, fileName: fileName)
    }

    /// Where a blob's file lies, for sending it with sendfile; nil when the store has no local files.
    public func localPath(ofBlob sha256: String) -> String? {
        self.blobs.localPath(forSHA256: sha256)
    }
}
