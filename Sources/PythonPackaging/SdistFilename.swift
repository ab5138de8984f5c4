/// The name of a source distribution file: `{name}-{version}.tar.gz` (PEP 625), or the legacy
/// `.zip` form.
///
/// Legacy names are not escaped and may contain `-` themselves (`foo-bar-1.0.zip`), so the
/// name is split at the right-most `-` after which a PEP 440 version follows and before which
/// a valid project name stands. Because a version may contain `-` too (`1.0-1` is
/// `1.0.post1`), a legacy name can be read in more than one way; ``matches(name:version:)``
/// accepts any reading.
public struct SdistFilename: Hashable, Sendable, CustomStringConvertible {
    /// An sdist archive format, named by its extension.
    public enum Format: String, Hashable, Sendable {
        case tarGz = ".tar.gz"
        case zip = ".zip"
    }

    /// The file name as given.
    public let filename: String
    /// The distribution name as written in the file name, e.g. `foo_bar`.
    public let nameComponent: String
    public let name: ProjectName
    /// The version as written in the file name.
    public let versionComponent: String
    public let version: Version
    public let format: Format

    /// Parses an sdist file name, after the screening that ``DistributionFilename`` applies.
    public init(parsing filename: String) throws(DistributionFilenameError) {
        try FilenameScreening.screen(filename)
        guard case (let stem, .sdist(let format)) = try FilenameScreening.split(filename) else {
            throw .unsupportedExtension
        }
        try self.init(filename: filename, stem: stem, format: format)
    }

    /// Parses the stem of a screened file name.
    init(filename: String, stem: Substring, format: Format) throws(DistributionFilenameError) {
        var readings = Self.readings(of: stem).makeIterator()
        guard let reading = readings.next() else {
            throw Self.diagnose(stem)
        }
        self.filename = filename
        self.nameComponent = String(reading.nameComponent)
        self.name = reading.name
        self.versionComponent = String(reading.versionComponent)
        self.version = reading.version
        self.format = format
    }

    /// The extension, `.tar.gz` or `.zip`.
    public var `extension`: String {
        self.format.rawValue
    }

    public var description: String {
        self.filename
    }

    /// Whether some reading of the file name names this project (by normalised name) and this
    /// version (by PEP 440 equality).
    public func matches(name: ProjectName, version: Version) -> Bool {
        let stem = self.filename.dropLast(self.format.rawValue.count)
        return Self.readings(of: stem).contains { $0.name == name && $0.version == version }
    }

    /// One way of splitting a stem into a valid name and a valid version.
    private struct Reading {
        var nameComponent: Substring
        var name: ProjectName
        var versionComponent: Substring
        var version: Version
    }

    /// Explains why a stem has no valid reading, judging the split at its last dash.
    private static func diagnose(_ stem: Substring) -> DistributionFilenameError {
        guard let lastDash = stem.lastIndex(of: "-") else {
            return .missingVersion
        }
        do {
            _ = try FilenameScreening.version(stem[stem.index(after: lastDash)...])
            return .invalidName(String(stem[..<lastDash]))
        } catch {
            return error
        }
    }

    /// The valid readings of a stem, splitting at its dashes from right to left.
    private static func readings(of stem: Substring) -> some Sequence<Reading> {
        stem.indices.reversed().lazy
            .filter { stem[$0] == "-" }
            .compactMap { dash -> Reading? in
                let nameComponent = stem[..<dash]
                let versionComponent = stem[stem.index(after: dash)...]
                guard
                    let name = try? ProjectName(validating: String(nameComponent)),
                    let version = try? FilenameScreening.version(versionComponent)
                else {
                    return nil
                }
                return Reading(
                    nameComponent: nameComponent,
                    name: name,
                    versionComponent: versionComponent,
                    version: version
                )
            }
    }
}
