import Foundation
import PythonPackaging

/// Loads a large catalogue of files, described one per JSON line, into a project without their
/// bytes: what `wheelhouse bulk-load` runs, for benchmarks and tests of large catalogues. Each line
/// is checked as an upload's form is (names, versions, file names, digests' shape); the rows are
/// recorded in batches, each one transaction.
public struct CatalogueLoader: Sendable {
    /// One line of a listing.
    public struct Line: Decodable, Sendable {
        var name: String
        var version: String
        var fileName: String
        var sha256: String
        var size: Int64
        var md5: String?
        var blake2b256: String?
        var requiresPython: String?
        var coreMetadataSHA256: String?
        var coreMetadataSize: Int64?

        enum CodingKeys: String, CodingKey {
            case name, version, sha256, size, md5
            case fileName = "file_name"
            case blake2b256 = "blake2b_256"
            case requiresPython = "requires_python"
            case coreMetadataSHA256 = "core_metadata_sha256"
            case coreMetadataSize = "core_metadata_size"
        }
    }

    let store: MetadataStore
    let freshness: Freshness

    /// Parses and checks one line; `number` names it in errors.
    public func check(_ json: some StringProtocol, number: Int) throws -> ListedUpload {
        let line: Line
        do { line = try JSONDecoder().decode(Line.self, from: Data(json.utf8)) } catch {
            throw RegistryError.invalid("line \(number): not a file's JSON object (\(error))")
        }
        do {
            let checked = try PackageRules.check(
                UploadRequest(fileName: line.fileName, name: line.name, version: line.version, requiresPython: line.requiresPython)
            )
            for (field, value, length) in [
                ("sha256", line.sha256, 64), ("md5", line.md5, 32), ("blake2b_256", line.blake2b256, 64),
                ("core_metadata_sha256", line.coreMetadataSHA256, 64),
            ] {
                guard let value else { continue }
                guard value.utf8.count == length, value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
                    throw RegistryError.invalid("\(field) must be \(length) lowercase hex digits")
                }
            }
            guard line.size >= 0, (line.coreMetadataSHA256 == nil) == (line.coreMetadataSize == nil) else {
                throw RegistryError.invalid("size must not be negative, and core metadata needs both its sha256 and its size")
            }
            return ListedUpload(
                name: checked.name.raw,
                normalizedName: checked.name.normalized,
                version: checked.version.normalized,
                canonicalVersion: checked.version.canonical,
                fileName: checked.fileName,
                size: line.size,
                // Unknown digests are stored empty: nothing checks them without the bytes.
                digests: FileDigests(sha256: line.sha256, md5: line.md5 ?? "", blake2b256: line.blake2b256 ?? ""),
                requiresPython: checked.requiresPython,
                coreMetadata: line.coreMetadataSHA256.map { BlobReference(sha256: $0, size: line.coreMetadataSize ?? 0) }
            )
        } catch RegistryError.invalid(let message) {
            throw RegistryError.invalid("line \(number): \(message)")
        }
    }

    /// Records a batch of checked lines in one transaction, with one audit event for the batch
    /// (only `wheelhouse bulk-load` loads catalogues, so the author is the command line unless told).
    public func record(
        _ uploads: [ListedUpload],
        in project: Project,
        author: AuditAuthor = .commandLine()
    ) async throws -> (packages: Int, files: Int) {
        try await self.freshness.afterWrite(.packages) {
            try await self.store.recordListedFiles(uploads, projectID: project.id) { counts in
                [.packagesBulkLoaded(packages: counts.packages, files: counts.files, in: project, by: author)]
            }
        }
    }
}
