import Logging
import PythonPackaging

/// What a caller wants to do with a project's packages.
public enum PackageAction: Sendable {
    case read
    case upload
    case manage
}

/// Publishing and reading packages, with authorisation: the PyPI routes call only this.
public struct PackageService: Sendable {
    let store: MetadataStore
    public let access: AccessControl
    public let blobs: LocalBlobStore
    let logger: Logger
    /// Authorisation decisions on the read path, for at most a second (a removed member or a
    /// narrowed visibility takes effect within it).
    private let projectDecisions = ExpiringCache<String, (Project, ProjectPermissions)>(lifetime: .seconds(1))
    private let groupDecisions = ExpiringCache<String, (Namespace, [Project], Bool)>(lifetime: .seconds(1))
    /// Projects' packages_version, for a moment: this process clears it as it writes, so its own
    /// changes show at once; another process's (the CLI, another instance) within `versionLifetime`.
    public static let versionLifetime = Duration.milliseconds(250)
    private let versions = ExpiringCache<[ProjectID], [ProjectID: Int64]>(lifetime: versionLifetime)
    /// File lookups for downloads, valid while their projects' packages are unchanged.
    private let downloads = VersionedCache<PackageFile?>()

    public init(store: MetadataStore, blobs: LocalBlobStore, logger: Logger) {
        self.store = store
        self.access = AccessControl(store: store)
        self.blobs = blobs
        self.logger = logger
    }

    // MARK: Finding and authorising

    /// The project named by a numeric id or a full path, if the caller may `action` it.
    /// Anonymous callers get `unauthenticated` for anything not public, whether or not it exists, so
    /// that clients send credentials and nothing leaks; signed-in callers get `notFound` for what they
    /// cannot see and `forbidden` for what they see but may not do.
    public func authorizedProject(_ reference: String, for principal: Principal, action: PackageAction) async throws -> Project {
        let key = principal.cacheKey + "|" + reference
        let decide = { () async throws -> (Project, ProjectPermissions) in
            guard let project = try await self.project(reference) else { throw self.invisible(principal, "404 Project Not Found") }
            return (project, try await self.access.permissions(of: principal, on: project))
        }
        // Reads may use a decision up to a second old (or the last one, while the database is away);
        // writes decide afresh.
        let decision = action == .read ? try await self.projectDecisions.value(for: key, orCompute: decide) : try await decide()
        if action != .read { self.projectDecisions.set(decision, for: key) }
        let (project, permissions) = decision
        guard permissions.canSee else { throw self.invisible(principal, "404 Project Not Found") }
        let allowed = switch action {
        case .read: permissions.canReadPackages
        case .upload: permissions.canUploadPackages
        case .manage: permissions.canManagePackages
        }
        guard allowed else { throw principal.isAnonymous ? RegistryError.unauthenticated : RegistryError.forbidden("403 Forbidden") }
        return project
    }

    /// The group named by a numeric id or a full path, and the projects below it whose packages the caller may read.
    public func authorizedGroup(_ reference: String, for principal: Principal) async throws -> (Namespace, [Project]) {
        let (group, projects, canSee) = try await self.groupDecisions.value(for: principal.cacheKey + "|" + reference) {
            guard let group = try await self.group(reference) else { throw self.invisible(principal, "404 Group Not Found") }
            let (canSee, projects) = try await self.access.readableProjects(of: principal, in: group)
            return (group, projects, canSee)
        }
        guard canSee else { throw self.invisible(principal, "404 Group Not Found") }
        if principal.isAnonymous && projects.isEmpty && group.visibility != .public { throw RegistryError.unauthenticated }
        return (group, projects)
    }

    private func invisible(_ principal: Principal, _ message: String) -> RegistryError {
        principal.isAnonymous ? .unauthenticated : .notFound(message)
    }

    func project(_ reference: String) async throws -> Project? {
        try await self.store.project(reference: reference)
    }

    func group(_ reference: String) async throws -> Namespace? {
        try await self.store.group(reference: reference)
    }

    /// Forgets every cached authorisation decision and token lookup. Changes made through this
    /// process call it, so they apply at once; changes made elsewhere (the CLI, another instance)
    /// apply within the caches' second.
    public func forgetCachedDecisions() {
        self.projectDecisions.expireAll()
        self.groupDecisions.expireAll()
        self.versions.expireAll()
        self.access.forgetCachedTokens()
    }

    // MARK: Reading

    /// What cached pages of these projects are checked against; it changes with every upload,
    /// yank and deletion, in the same transaction.
    public func packagesVersions(of projects: [Project]) async throws -> [ProjectID: Int64] {
        let ids = projects.map(\.id)
        return try await self.versions.value(for: ids) { try await self.store.packagesVersions(of: ids) }
    }

    /// The projects' packages_version as last read, if that was within `versionLifetime`; nil when
    /// it must be read again. For answers replayed without a task (see `ReplayCache`).
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

    /// The project named by a numeric id or a full path, for operators (no authorisation).
    public func existingProject(_ reference: String) async throws -> Project {
        guard let project = try await self.project(reference) else { throw RegistryError.notFound("Project '\(reference)' not found") }
        return project
    }

    // MARK: Yanking

    /// Yanks (PEP 592) a release or one of its files, or undoes it with `yank: nil`. The caller must
    /// have been authorised for `.manage`. Returns the file names affected.
    public func setYank(_ yank: Yank?, project: Project, name: String, version: String, fileName: String?) async throws -> [String] {
        let parsedVersion: Version
        do { parsedVersion = try Version(parsing: version) } catch {
            throw RegistryError.invalid("Invalid version '\(version)': not a PEP 440 version")
        }
        if let reason = yank?.reason {
            guard reason.count <= 1000, !reason.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" }) else {
                throw RegistryError.invalid("The yank reason must be one line of at most 1000 characters")
            }
        }
        let files = try await self.store.setYank(
            yank, projectID: project.id, normalizedName: ProjectName.normalize(name),
            canonicalVersion: parsedVersion.canonical, fileName: fileName
        )
        self.versions.expireAll()
        guard !files.isEmpty else {
            throw RegistryError.notFound(fileName == nil ? "404 Release Not Found" : "404 Package File Not Found")
        }
        self.logger.info(yank == nil ? "unyanked" : "yanked", metadata: [
            "project": "\(project.pathWithNamespace)", "files": "\(files.joined(separator: ","))",
        ])
        return files
    }

    // MARK: Deleting

    /// Deletes a release with its files; blobs go once no other file references them.
    public func deletePackage(_ package: Package) async throws {
        try await self.collectGarbage(try await self.store.deletePackage(id: package.id))
        self.logger.info("deleted package", metadata: ["package": "\(package.normalizedName) \(package.version)"])
    }

    /// Deletes one file of a release (and the release with its last file).
    public func deletePackageFile(id: Int64, of package: Package) async throws {
        guard let digests = try await self.store.deletePackageFile(id: id, packageID: package.id) else {
            throw RegistryError.notFound("404 Package File Not Found")
        }
        try await self.collectGarbage(digests)
    }

    /// Removes the blobs among `digests` that nothing references any more.
    func collectGarbage(_ digests: [String]) async throws {
        self.versions.expireAll()
        let blobs = self.blobs
        try await self.store.removeUnreferencedBlobs(digests) { digest in try await blobs.remove(sha256: digest) }
    }

    // MARK: Publishing

    /// Checks a file name before its bytes are read, so a hostile one is refused without writing anything.
    public func checkFileName(_ fileName: String) throws {
        _ = try PackageRules.checkFileName(fileName)
    }

    /// Publishes a fully received upload. The blob is made durable before its row commits; whatever
    /// is refused leaves nothing behind.
    public func publish(_ request: UploadRequest, upload: BlobUpload, to project: Project) async throws -> PublishOutcome {
        defer { upload.discard() }
        let checked = try PackageRules.check(request)
        guard upload.size > 0 else { throw RegistryError.invalid("The uploaded file is empty") }
        let digests = try await upload.finish()
        try PackageRules.verify(request, against: digests)

        if let existing = try await self.store.file(projectID: project.id, fileName: checked.fileName) {
            guard existing.digests.sha256 == digests.sha256 else {
                throw RegistryError.invalid(PackageRules.fileNameTaken)
            }
            return .unchanged(existing)
        }
        let extractor = CoreMetadataExtractor()
        let path = upload.path
        let extracted = try await self.blobs.threadPool.runIfActive {
            try extractor.extract(fromFileAt: path, filename: checked.filename, name: checked.name, version: checked.version)
        }
        // The form's requires_python wins; a file's own metadata fills in when the client sent none.
        let requiresPython = try checked.requiresPython ?? PackageRules.checkRequiresPython(extracted?.metadata.requiresPython)
        var stagedMetadata: (BlobUpload, BlobReference)?
        if let extracted { stagedMetadata = try await self.blobs.stage(extracted.bytes) }
        defer { stagedMetadata?.0.discard() }
        let blobs = self.blobs
        let outcome = try await self.store.recordFile(
            projectID: project.id,
            name: checked.name.raw,
            normalizedName: checked.name.normalized,
            version: checked.version.normalized,
            canonicalVersion: checked.version.canonical,
            fileName: checked.fileName,
            size: upload.size,
            digests: digests,
            requiresPython: requiresPython,
            coreMetadata: stagedMetadata?.1,
            placeBlobs: { [stagedMetadata] in
                try await blobs.commit(upload, sha256: digests.sha256)
                if let (metadataUpload, metadata) = stagedMetadata {
                    try await blobs.commit(metadataUpload, sha256: metadata.sha256)
                }
            }
        )
        self.versions.expireAll()
        if case .created(let file) = outcome {
            self.logger.info("published", metadata: [
                "project": "\(project.pathWithNamespace)", "file": "\(file.fileName)", "size": "\(file.size)",
                "sha256": "\(file.digests.sha256)",
            ])
        }
        return outcome
    }
}
