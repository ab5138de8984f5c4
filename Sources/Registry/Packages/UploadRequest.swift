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
    /// Every text field of the form, repeated ones in order: what the release's page shows where
    /// the file's own metadata lacks it (see `ReleaseDetails`).
    public var form: [String: [String]]

    public init(
        fileName: String,
        name: String?,
        version: String?,
        fileType: String? = nil,
        requiresPython: String? = nil,
        sha256: String? = nil,
        md5: String? = nil,
        blake2b256: String? = nil,
        form: [String: [String]] = [:]
    ) {
        self.fileName = fileName
        self.name = name
        self.version = version
        self.fileType = fileType
        self.requiresPython = requiresPython
        self.sha256 = sha256
        self.md5 = md5
        self.blake2b256 = blake2b256
        self.form = form
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
