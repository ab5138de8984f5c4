import PythonPackaging
import Registry

/// PEP 691 JSON pages, with PEP 700's `versions`, `size` and `upload-time`, PEP 714's `core-metadata`
/// and PEP 592's `yanked`.
struct SimpleJSON {
    static let apiVersion = "1.1"
    static let contentType = "application/vnd.pypi.simple.v1+json"

    /// The absolute URL of the project or group PyPI root.
    var baseURL: String

    private var meta: JSONValue { .object([("api-version", .string(Self.apiVersion))]) }

    func index(packages: [ListedPackage]) -> String {
        JSONValue.object([
            ("meta", self.meta),
            ("projects", .array(packages.map { .object([("name", .string($0.name))]) })),
        ]).rendered
    }

    /// A project's files, each linked to this scope's own file route; local or from the upstream.
    func package(normalizedName: String, versions: [String], files: [SimpleFile]) -> String {
        JSONValue.object([
            ("meta", self.meta),
            ("name", .string(normalizedName)),
            ("versions", .array(versions.map(JSONValue.string))),
            ("files", .array(files.map(self.file))),
        ]).rendered
    }

    private func file(_ file: SimpleFile) -> JSONValue {
        let metadata: JSONValue = file.coreMetadataSHA256.map { .object([("sha256", .string($0))]) } ?? .bool(false)
        let yanked: JSONValue = file.yankReason.map { $0.isEmpty ? .bool(true) : .string($0) } ?? .bool(false)
        var fields: [(String, JSONValue)] = [
            ("filename", .string(file.filename)),
            ("url", .string("\(self.baseURL)/files/\(file.sha256)/\(file.filename)")),
            ("hashes", .object([("sha256", .string(file.sha256))])),
            ("requires-python", .optional(file.requiresPython)),
            ("core-metadata", metadata),
            ("dist-info-metadata", metadata),
            ("yanked", yanked),
        ]
        if let size = file.size { fields.append(("size", .int(size))) }
        if let uploadTime = file.uploadTime { fields.append(("upload-time", .string(uploadTime))) }
        return .object(fields)
    }

    /// Every version with a file, in PEP 440 order.
    static func versions(of files: [ListedFile]) -> [String] {
        var seen = Set<String>()
        let versions = files.map(\.package.version).filter { seen.insert($0).inserted }
        return versions.sorted { lhs, rhs in
            guard let left = try? Version(parsing: lhs), let right = try? Version(parsing: rhs) else { return lhs < rhs }
            return left < right
        }
    }
}
