import PythonPackaging

/// An upload whose name, version and file name agree and are valid.
struct CheckedUpload: Sendable {
    var filename: DistributionFilename
    var name: ProjectName
    var version: Version
    var fileName: String
    var requiresPython: String?
}

/// Warehouse's upload checks, which GitLab skips.
enum PackageRules {
    /// The message of a refused duplicate, which twine's and poetry's `--skip-existing` recognise.
    static let fileNameTaken = "File name has already been taken"

    /// A file name is taken once: the same bytes again change nothing, other bytes are refused.
    static func outcome(ofRecording digests: FileDigests, over existing: PackageFile) throws -> PublishOutcome {
        guard existing.digests.sha256 == digests.sha256 else {
            throw RegistryError.invalid(self.fileNameTaken)
        }
        return .unchanged(existing)
    }

    /// Checks the file name alone: cheap, and possible before any bytes of the file have arrived.
    static func checkFileName(_ fileName: String) throws -> DistributionFilename {
        do {
            return try DistributionFilename(parsing: fileName)
        } catch {
            throw RegistryError.invalid("\(error)")
        }
    }

    static func check(_ request: UploadRequest) throws -> CheckedUpload {
        let filename = try self.checkFileName(request.fileName)
        guard let rawName = request.name?.trimmingWhitespace(), !rawName.isEmpty else {
            throw RegistryError.invalid("name is missing")
        }
        guard let rawVersion = request.version?.trimmingWhitespace(), !rawVersion.isEmpty else {
            throw RegistryError.invalid("version is missing")
        }
        let name: ProjectName
        do { name = try ProjectName(validating: rawName) } catch {
            throw RegistryError.invalid("Invalid package name '\(rawName)': \(error)")
        }
        let version: Version
        do { version = try Version(parsing: rawVersion) } catch {
            throw RegistryError.invalid("Invalid version '\(rawVersion)': not a PEP 440 version")
        }
        guard filename.matches(name: name, version: version) else {
            throw RegistryError.invalid(
                "File name '\(request.fileName)' does not match the package name '\(rawName)' and version '\(rawVersion)'"
            )
        }
        if let fileType = request.fileType?.trimmingWhitespace(), !fileType.isEmpty, fileType != filename.packageType {
            throw RegistryError.invalid("filetype '\(fileType)' does not match the file '\(request.fileName)'")
        }
        return CheckedUpload(
            filename: filename,
            name: name,
            version: version,
            fileName: request.fileName,
            requiresPython: try self.checkRequiresPython(request.requiresPython)
        )
    }

    /// An empty `requires_python` means none; anything else must be a short PEP 440 specifier set,
    /// as Warehouse checks it: pip and uv evaluate it on every resolution, and it is shown on pages.
    static func checkRequiresPython(_ value: String?) throws -> String? {
        guard let value = value?.trimmingWhitespace(), !value.isEmpty else { return nil }
        guard value.utf8.count <= 255, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw RegistryError.invalid("Invalid requires_python: at most 255 characters on one line")
        }
        do {
            _ = try VersionSpecifierSet(parsing: value)
        } catch {
            throw RegistryError.invalid("Invalid requires_python: \(error)")
        }
        return value
    }

    /// Every digest the client supplied must match the bytes received.
    static func verify(_ request: UploadRequest, against computed: FileDigests) throws {
        let supplied: [(String, String?, String)] = [
            ("sha256_digest", request.sha256, computed.sha256),
            ("md5_digest", request.md5, computed.md5),
            ("blake2_256_digest", request.blake2b256, computed.blake2b256),
        ]
        for (field, value, actual) in supplied {
            guard let value = value?.trimmingWhitespace(), !value.isEmpty else { continue }
            guard value.lowercased() == actual else {
                throw RegistryError.invalid("The \(field) does not match the uploaded file: the file was changed or damaged in transit")
            }
        }
    }
}
