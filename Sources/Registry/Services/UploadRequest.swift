import PythonPackaging

/// What an upload form said about its file, before any of it is trusted.
public struct UploadRequest: Sendable {
    public var fileName: String
    public var name: String?
    public var version: String?
    public var fileType: String?
    public var requiresPython: String?
    public var sha256: String?
    public var md5: String?
    public var blake2b256: String?

    public init(
        fileName: String, name: String?, version: String?, fileType: String? = nil, requiresPython: String? = nil,
        sha256: String? = nil, md5: String? = nil, blake2b256: String? = nil
    ) {
        self.fileName = fileName
        self.name = name
        self.version = version
        self.fileType = fileType
        self.requiresPython = requiresPython
        self.sha256 = sha256
        self.md5 = md5
        self.blake2b256 = blake2b256
    }
}

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
    static let fileNameTaken = "File name has already been taken"

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
            filename: filename, name: name, version: version, fileName: request.fileName,
            requiresPython: try self.checkRequiresPython(request.requiresPython)
        )
    }

    /// An empty `requires_python` means none; anything else must be a short single line.
    static func checkRequiresPython(_ value: String?) throws -> String? {
        guard let value = value?.trimmingWhitespace(), !value.isEmpty else { return nil }
        guard value.utf8.count <= 255, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw RegistryError.invalid("Invalid requires_python")
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

extension String {
    func trimmingWhitespace() -> String {
        let scalars = self.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
