/// The name of a file uploaded to the registry: a wheel or a source distribution.
///
/// Parsing first screens the name as a whole: it must be 1 to 255 bytes of printable ASCII
/// without path separators, not start with `.`, and end in `.whl`, `.tar.gz` or `.zip`.
/// Only then is it parsed by the rules of its kind.
///
/// Every part of a parsed name is checked against a grammar of ASCII letters, digits and
/// `.`, `_`, `-`, `!`, `+`, so a file name that parses can be used in a storage path or a URL
/// without escaping anything but `+` and `!` where the context requires it.
public enum DistributionFilename: Hashable, Sendable, CustomStringConvertible {
    case wheel(WheelFilename)
    case sdist(SdistFilename)

    /// The longest file name accepted, in bytes: the common file system limit.
    public static let maximumByteCount = 255

    public init(parsing filename: String) throws(DistributionFilenameError) {
        try FilenameScreening.screen(filename)
        let (stem, kind) = try FilenameScreening.split(filename)
        switch kind {
        case .wheel:
            self = .wheel(try WheelFilename(filename: filename, stem: stem))
        case .sdist(let format):
            self = .sdist(try SdistFilename(filename: filename, stem: stem, format: format))
        }
    }

    /// The file name as given.
    public var filename: String {
        switch self {
        case .wheel(let wheel): return wheel.filename
        case .sdist(let sdist): return sdist.filename
        }
    }

    /// The distribution name as written in the file name.
    public var nameComponent: String {
        switch self {
        case .wheel(let wheel): return wheel.nameComponent
        case .sdist(let sdist): return sdist.nameComponent
        }
    }

    /// The distribution name.
    public var name: ProjectName {
        switch self {
        case .wheel(let wheel): return wheel.name
        case .sdist(let sdist): return sdist.name
        }
    }

    public var version: Version {
        switch self {
        case .wheel(let wheel): return wheel.version
        case .sdist(let sdist): return sdist.version
        }
    }

    /// The `filetype` an upload of this file declares: `bdist_wheel` or `sdist`.
    public var packageType: String {
        switch self {
        case .wheel: return "bdist_wheel"
        case .sdist: return "sdist"
        }
    }

    public var description: String {
        self.filename
    }

    /// Whether the file belongs to the release `version` of project `name`: the normalised
    /// names are equal and the versions are equal under PEP 440 (`1.0` matches `1.0.0`).
    public func matches(name: ProjectName, version: Version) -> Bool {
        switch self {
        case .wheel(let wheel):
            return wheel.matches(name: name, version: version)
        case .sdist(let sdist):
            return sdist.matches(name: name, version: version)
        }
    }
}
