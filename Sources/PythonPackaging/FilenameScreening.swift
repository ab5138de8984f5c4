/// The checks every distribution file name passes before it is parsed, and the split of the
/// name into stem and extension.
enum FilenameScreening {
    /// The recognised extensions, each with the kind of distribution it names.
    enum Kind {
        case wheel
        case sdist(SdistFilename.Format)
    }

    /// Refuses names that are empty, too long, or could escape or confuse storage, a shell
    /// or a log: path separators, control characters, non-ASCII, a leading dot.
    ///
    /// When a name has several of these faults, the first in that order is reported.
    static func screen(_ filename: String) throws(DistributionFilenameError) {
        let bytes = filename.utf8
        guard let first = bytes.first else {
            throw .empty
        }
        guard bytes.count <= DistributionFilename.maximumByteCount else {
            throw .tooLong(byteCount: bytes.count)
        }
        var hasControl = false
        var hasNonASCII = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                throw .pathSeparator
            case 0x00...0x1F, 0x7F:
                hasControl = true
            case 0x80...:
                hasNonASCII = true
            default:
                break
            }
        }
        if hasControl {
            throw .controlCharacter
        }
        if hasNonASCII {
            throw .nonASCII
        }
        if first == UInt8(ascii: ".") {
            throw .leadingDot
        }
    }

    /// The accepted extensions; they are matched case-sensitively, as `packaging` does.
    private static let extensions: [(suffix: String, kind: Kind)] = [
        (".whl", .wheel), (".tar.gz", .sdist(.tarGz)), (".zip", .sdist(.zip)),
    ]

    /// Splits a screened name into its stem and the kind its extension names.
    static func split(_ filename: String) throws(DistributionFilenameError) -> (stem: Substring, kind: Kind) {
        for (suffix, kind) in Self.extensions where filename.hasSuffix(suffix) {
            return (filename.dropLast(suffix.count), kind)
        }
        throw .unsupportedExtension
    }

    /// Parses the version part of a file name: a PEP 440 version, without the surrounding
    /// whitespace that `Version(parsing:)` would otherwise forgive.
    static func version(_ component: Substring) throws(DistributionFilenameError) -> Version {
        do throws(VersionError) {
            guard !component.utf8.contains(UInt8(ascii: " ")) else {
                throw VersionError.invalid(String(component))
            }
            return try Version(parsing: component)
        } catch {
            throw .invalidVersion(error)
        }
    }
}
