import Logging
import PythonPackaging

/// Changing what is published: yanking (PEP 592), deleting releases and files, and removing the
/// blobs nothing references any more. Callers are authorised for `.manage` (or are operators), and
/// name the `AuditAuthor` each change is recorded by.
public struct PackageMaintenance: Sendable {
    let store: MetadataStore
    let blobs: any BlobStore
    let freshness: Freshness
    let logger: Logger

    /// Yanks a release or one of its files, or undoes it with `yank: nil`. Returns the file names affected.
    public func setYank(
        _ yank: Yank?,
        project: Project,
        name: String,
        version: String,
        fileName: String?,
        author: AuditAuthor
    ) async throws -> [String] {
        let parsedVersion: Version
        do { parsedVersion = try Version(parsing: version) } catch {
            throw RegistryError.invalid("Invalid version '\(version)': not a PEP 440 version")
        }
        if let reason = yank?.reason {
            guard reason.count <= 1000, !reason.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" }) else {
                throw RegistryError.invalid("The yank reason must be one line of at most 1000 characters")
            }
        }
        let files = try await self.freshness.afterWrite(.packages) {
            try await self.store.setYank(
                yank,
                projectID: project.id,
                normalizedName: ProjectName.normalize(name),
                canonicalVersion: parsedVersion.canonical,
                fileName: fileName
            ) { files in
                [.yankChanged(files, name: ProjectName.normalize(name), version: version, reason: yank?.reason, in: project, by: author)]
            }
        }
        guard !files.isEmpty else {
            throw RegistryError.notFound(fileName == nil ? "404 Release Not Found" : "404 Package File Not Found")
        }
        self.logger.info(
            yank == nil ? "unyanked" : "yanked",
            metadata: [
                "project": "\(project.pathWithNamespace)", "files": "\(files.joined(separator: ","))",
            ]
        )
        return files
    }

    /// Deletes a release with its files; blobs go once no other file references them.
    public func deletePackage(_ package: Package, author: AuditAuthor) async throws {
        let entry = AuditEntry.packageDeleted(package, in: try await self.project(of: package), by: author)
        try await self.collectGarbage(
            try await self.freshness.afterWrite(.packages) { try await self.store.deletePackage(id: package.id, audit: [entry]) }
        )
        self.logger.info("deleted package", metadata: ["package": "\(package.normalizedName) \(package.version)"])
    }

    /// Deletes one file of a release (and the release with its last file).
    public func deletePackageFile(id: Int64, of package: Package, author: AuditAuthor) async throws {
        let project = try await self.project(of: package)
        let deleted = try await self.freshness.afterWrite(.packages) {
            try await self.store.deletePackageFile(id: id, packageID: package.id) { file in
                [.packageFileDeleted(file, of: package, in: project, by: author)]
            }
        }
        guard let digests = deleted else {
            throw RegistryError.notFound("404 Package File Not Found")
        }
        try await self.collectGarbage(digests)
    }

    /// The project a package belongs to, which its events are recorded under.
    private func project(of package: Package) async throws -> Project {
        guard let project = try await self.store.project(id: package.projectID) else { throw RegistryError.notFound("404 Project Not Found") }
        return project
    }

    /// Removes the blobs among `digests` (those of rows just deleted) that nothing references any more.
    /// The deletion that freed them has reported its change already (`afterWrite` here, or
    /// `ManagementService.write` for users, groups and projects).
    /// The deletion has committed by now, so a store that fails here (a bucket that is down) does
    /// not turn it into an error for the caller: the blobs stay, unreferenced (and logged), until
    /// a later deletion of the same bytes removes them; no collection sweeps the store yet.
    func collectGarbage(_ digests: [String]) async throws {
        let blobs = self.blobs
        do {
            try await self.store.removeUnreferencedBlobs(digests) { digest in try await blobs.remove(sha256: digest) }
        } catch let error as RegistryError {
            guard case .unavailable = error else { throw error }
            self.logger.warning("the blobs of a deletion stay in the store for now", metadata: ["sha256": "\(digests)", "error": "\(error)"])
        }
    }
}
