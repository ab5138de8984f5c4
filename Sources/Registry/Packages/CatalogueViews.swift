import PythonPackaging

/// One release on a package's page: its files and what its metadata says.
public struct ReleaseView: Sendable {
    public var package: Package
    public var files: [PackageFile]
    public var details: ReleaseDetails?
    /// Its newest file's upload.
    public var uploadedAt: Timestamp
    /// The release is yanked when all of its files are (PEP 592); the first file's reason.
    public var yank: Yank?
    public var parsedVersion: Version?
}

/// A package (one normalised name in one project) with every release, newest version first.
public struct PackageView: Sendable {
    public var name: String
    public var normalizedName: String
    public var releases: [ReleaseView]

    /// What a page shows by default: the newest final release not yanked, else the newest not
    /// yanked, else the newest (Warehouse's choice).
    public var latest: ReleaseView? {
        self.releases.first { $0.yank == nil && !($0.parsedVersion?.isPrerelease ?? false) }
            ?? self.releases.first { $0.yank == nil } ?? self.releases.first
    }

    /// The release whose version is `version` (any spelling PEP 440 equates with it).
    public func release(_ version: String) -> ReleaseView? {
        let wanted = try? Version(parsing: version)
        return self.releases.first { release in
            if let wanted, let parsed = release.parsedVersion { return parsed == wanted }
            return release.package.version == version
        }
    }
}

/// The read side of the web pages: which projects a visitor may read, recent releases, search,
/// and a package's page, from the same store and caches as the simple index.
public struct CatalogueViews: Sendable {
    let store: MetadataStore
    let reader: PackageReader
    /// Kept without their releases' descriptions (see `description(of:)`), so that an entry is the
    /// size of its file list: at most 256 of them.
    private let packages = VersionedCache<PackageView?>(capacity: 256)
    /// Search results, kept until one of the searched projects' packages change; only results of
    /// at most `maxCachedResults` are kept, so the cache stays small whatever is searched.
    private let searches = VersionedCache<[ReleaseSummary]>(capacity: 512)
    static let maxCachedResults = 200

    init(store: MetadataStore, reader: PackageReader) {
        self.store = store
        self.reader = reader
    }

    /// The newest releases in `projects`, one per package, at most `limit`.
    public func recentReleases(in projects: [Project], limit: Int = 20) async throws -> [ReleaseSummary] {
        let releases = try await self.store.releaseSummaries(in: projects.map(\.id), limit: limit * 5)
        var seen = Set<String>()
        return Array(releases.filter { seen.insert("\($0.projectID)/\($0.normalizedName)").inserted }.prefix(limit))
    }

    /// Packages in `projects` whose normalised name contains the normalised query, or whose summary
    /// contains every word of it: one entry per package, showing its latest release.
    public func search(_ query: String, in projects: [Project]) async throws -> [ReleaseSummary] {
        let words = query.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard !words.isEmpty else { return [] }
        let fragment = ProjectName.normalize(query.trimmingWhitespace())
        let key = projects.map { String($0.id) }.joined(separator: ",") + "|" + query
        let versions = try await self.reader.packagesVersions(of: projects)
        if let cached = self.searches.value(for: key, versions: versions) { return cached }
        let rows = try await self.store.releaseSummaries(in: projects.map(\.id), nameFragment: fragment, words: words, limit: 20_000)
        let results = Self.latestPerPackage(rows).sorted { ($0.normalizedName, $0.projectID) < ($1.normalizedName, $1.projectID) }
        if results.count <= Self.maxCachedResults { self.searches.store(results, for: key, versions: versions) }
        return results
    }

    /// Each package's latest release among `rows` (as `PackageView.latest` chooses).
    static func latestPerPackage(_ rows: [ReleaseSummary]) -> [ReleaseSummary] {
        var best: [String: (ReleaseSummary, Version?)] = [:]
        for row in rows {
            let key = "\(row.projectID)/\(row.normalizedName)"
            let version = try? Version(parsing: row.version)
            guard let current = best[key] else {
                best[key] = (row, version)
                continue
            }
            if Self.rank(row, version) > Self.rank(current.0, current.1) { best[key] = (row, version) }
        }
        return best.values.map(\.0)
    }

    private struct Rank: Comparable {
        var notYanked: Bool
        var final: Bool
        var version: Version?
        var uploadedAt: Timestamp

        static func < (lhs: Self, rhs: Self) -> Bool {
            if lhs.notYanked != rhs.notYanked { return !lhs.notYanked }
            if lhs.final != rhs.final { return !lhs.final }
            switch (lhs.version, rhs.version) {
            case (let left?, let right?) where left != right: return left < right
            default: return lhs.uploadedAt < rhs.uploadedAt
            }
        }
    }

    private static func rank(_ row: ReleaseSummary, _ version: Version?) -> Rank {
        Rank(notYanked: !row.yanked, final: !(version?.isPrerelease ?? false), version: version, uploadedAt: row.uploadedAt)
    }

    /// Every package in the project, each as its latest release, by name.
    public func packages(in project: Project) async throws -> [ReleaseSummary] {
        let rows = try await self.store.releaseSummaries(in: [project.id], limit: 100_000)
        return Self.latestPerPackage(rows).sorted { $0.normalizedName < $1.normalizedName }
    }

    /// A package's page data, kept until the project's packages change; nil when it has no release.
    public func package(_ normalizedName: String, in project: Project) async throws -> PackageView? {
        let versions = try await self.reader.packagesVersions(of: [project])
        return try await self.packages.value(for: "\(project.id)/\(normalizedName)", versions: versions) {
            try await self.loadPackage(normalizedName, in: project)
        }
    }

    private func loadPackage(_ normalizedName: String, in project: Project) async throws -> PackageView? {
        let listed = try await self.store.listedFiles(in: [project.id], normalizedName: normalizedName)
        guard let first = listed.first else { return nil }
        let details = try await self.store.releaseDetails(projectID: project.id, normalizedName: normalizedName)
        let detailsByPackage = Dictionary(details.map { ($0.packageID, $0.details) }, uniquingKeysWith: { first, _ in first })
        var byPackage: [Int64: ReleaseView] = [:]
        for item in listed {
            if byPackage[item.package.id] == nil {
                byPackage[item.package.id] = ReleaseView(
                    package: item.package,
                    files: [],
                    details: detailsByPackage[item.package.id] ?? nil,
                    uploadedAt: item.file.uploadedAt,
                    yank: nil,
                    parsedVersion: try? Version(parsing: item.package.version)
                )
            }
            byPackage[item.package.id]!.files.append(item.file)
            byPackage[item.package.id]!.uploadedAt = max(byPackage[item.package.id]!.uploadedAt, item.file.uploadedAt)
        }
        var releases = Array(byPackage.values)
        for index in releases.indices {
            let files = releases[index].files
            releases[index].yank = files.allSatisfy { $0.yank != nil } ? files.first?.yank : nil
            if releases[index].details == nil { releases[index].details = await self.detailsFromMetadata(of: files) }
            releases[index].details?.description = ""
        }
        releases.sort { lhs, rhs in
            switch (lhs.parsedVersion, rhs.parsedVersion) {
            case (let left?, let right?) where left != right: left > right
            default: lhs.uploadedAt > rhs.uploadedAt
            }
        }
        return PackageView(name: first.package.name, normalizedName: normalizedName, releases: releases)
    }

    /// The release's long description and its content type, read when its page is made (a
    /// `PackageView` does not keep them: they may be large, and only one is shown at a time).
    public func description(of release: ReleaseView) async throws -> (text: String, contentType: String?) {
        let stored = try await self.store.releaseDetails(packageID: release.package.id)
        let details: ReleaseDetails?
        if let stored { details = stored } else { details = await self.detailsFromMetadata(of: release.files) }
        return (details?.description ?? "", details?.descriptionContentType)
    }

    /// For a release recorded before details were kept (or bulk-loaded): what its first file's core
    /// metadata says, read from its blob; nil when no file has metadata or it cannot be read.
    private func detailsFromMetadata(of files: [PackageFile]) async -> ReleaseDetails? {
        guard let blob = files.lazy.compactMap(\.coreMetadata).first, blob.size > 0, blob.size <= CoreMetadata.defaultMaxBytes,
            let bytes = try? await self.reader.bytes(ofBlob: blob.sha256, range: 0...(blob.size - 1)),
            let metadata = try? CoreMetadata(parsing: bytes.readableBytesView)
        else { return nil }
        return ReleaseDetails(metadata: metadata, form: [:])
    }
}
