import Logging
import NIOPosix

/// Publishing: an upload's file is checked, streamed to a new blob, verified against the digests
/// the client sent, its core metadata extracted, and recorded. The blob is made durable before its
/// row commits; whatever is refused leaves nothing behind.
public struct PackagePublisher: Sendable {
    let store: MetadataStore
    let blobs: any BlobStore
    let freshness: Freshness
    /// Where metadata is read from the uploaded file (blocking file work, off the event loops).
    let threadPool: NIOThreadPool
    let logger: Logger

    /// Checks the file name, before any of the file's bytes are read (a hostile one is refused
    /// without writing anything), and starts the blob its bytes stream into.
    public func beginUpload(fileName: String) async throws -> BlobUpload {
        _ = try PackageRules.checkFileName(fileName)
        return try await self.blobs.makeUpload()
    }

    /// Publishes a fully received upload to a project the caller was authorised to upload to; a new
    /// file is recorded as `author`'s upload (the same bytes again change nothing and record nothing).
    public func publish(_ request: UploadRequest, upload: BlobUpload, to project: Project, author: AuditAuthor) async throws -> PublishOutcome {
        defer { upload.discard() }
        let checked = try PackageRules.check(request)
        guard upload.size > 0 else { throw RegistryError.invalid("The uploaded file is empty") }
        let digests = try await upload.finish()
        try PackageRules.verify(request, against: digests)

        if let existing = try await self.store.file(projectID: project.id, fileName: checked.fileName) {
            return try PackageRules.outcome(ofRecording: digests, over: existing)
        }
        let extractor = CoreMetadataExtractor()
        let path = upload.path
        let extracted = try await self.threadPool.runIfActive {
            try extractor.extract(fromFileAt: path, filename: checked.filename, name: checked.name, version: checked.version)
        }
        // The form's requires_python wins; a file's own metadata fills in when the client sent none.
        let requiresPython = try checked.requiresPython ?? PackageRules.checkRequiresPython(extracted?.metadata.requiresPython)
        var stagedMetadata: (BlobUpload, BlobReference)?
        if let extracted { stagedMetadata = try await self.blobs.stage(extracted.bytes) }
        defer { stagedMetadata?.0.discard() }
        // Sent to the store before the lock and the transaction (an object store's upload takes as
        // long as the bytes take); the commit under the lock then only makes sure they are still there.
        let transferred = [digests.sha256] + (stagedMetadata.map { [$0.1.sha256] } ?? [])
        try await self.blobs.transfer(upload, sha256: digests.sha256)
        if let (metadataUpload, metadata) = stagedMetadata { try await self.blobs.transfer(metadataUpload, sha256: metadata.sha256) }
        let blobs = self.blobs
        let outcome: PublishOutcome
        do {
            outcome = try await self.record(
                checked,
                upload: upload,
                digests: digests,
                requiresPython: requiresPython,
                metadata: stagedMetadata,
                details: ReleaseDetails(metadata: extracted?.metadata, form: request.form),
                to: project,
                author: author
            )
        } catch {
            // Refused after all (the name taken at the same moment, the database down): what was
            // sent and nothing refers to goes again, under the blob lock like any deletion.
            try? await self.store.removeUnreferencedBlobs(transferred) { digest in try await blobs.remove(sha256: digest) }
            throw error
        }
        if case .created(let file) = outcome {
            self.logger.info(
                "published",
                metadata: [
                    "project": "\(project.pathWithNamespace)", "file": "\(file.fileName)", "size": "\(file.size)",
                    "sha256": "\(file.digests.sha256)",
                ]
            )
        }
        return outcome
    }

    private func record(
        _ checked: CheckedUpload,
        upload: BlobUpload,
        digests: FileDigests,
        requiresPython: String?,
        metadata stagedMetadata: (BlobUpload, BlobReference)?,
        details: ReleaseDetails,
        to project: Project,
        author: AuditAuthor
    ) async throws -> PublishOutcome {
        let blobs = self.blobs
        return try await self.freshness.afterWrite(.packages) {
            try await self.store.recordFile(
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
                details: details,
                placeBlobs: { [stagedMetadata] in
                    try await blobs.commit(upload, sha256: digests.sha256)
                    if let (metadataUpload, metadata) = stagedMetadata {
                        try await blobs.commit(metadataUpload, sha256: metadata.sha256)
                    }
                },
                audit: { [name = checked.name.raw, version = checked.version.normalized] file in
                    [.packageUploaded(file, name: name, version: version, in: project, by: author)]
                }
            )
        }
    }
}
