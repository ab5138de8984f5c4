import Registry

/// The index URLs a page offers to copy: GitLab's PyPI API for a project and for a group, under
/// the server's external address.
struct IndexURLs {
    /// `https://host` (no trailing slash).
    let root: String

    func project(_ project: Project) -> String { "\(self.root)/api/v4/projects/\(project.id)/packages/pypi/simple" }
    func group(_ group: Namespace) -> String { "\(self.root)/api/v4/groups/\(group.id)/-/packages/pypi/simple" }
    /// Where a file downloads from (same origin: the session cookie goes with it).
    static func download(_ file: PackageFile) -> String {
        "/api/v4/projects/\(file.projectID)/packages/pypi/files/\(file.digests.sha256)/\(file.fileName.addingPathPercentEncoding)"
    }
    static func packagePage(project: String, name: String, version: String? = nil) -> String {
        "/\(project)/-/packages/\(name.addingPathPercentEncoding)" + (version.map { "/" + $0.addingPathPercentEncoding } ?? "")
    }
}

extension String {
    /// Percent-encoded for one path segment: everything but unreserved characters.
    var addingPathPercentEncoding: String {
        var out = ""
        for byte in self.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "!"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}
