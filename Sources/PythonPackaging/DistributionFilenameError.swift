/// Why a file name is not acceptable as the name of a distribution file.
///
/// The first group of cases screens out hostile or impossible names before any parsing; the
/// rest explain why a plausible name does not follow the wheel or sdist naming rules. Each
/// ``description`` is a message fit to send back to the client; untrusted parts are quoted and
/// escaped.
public enum DistributionFilenameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name is empty.
    case empty
    /// The name is longer than ``DistributionFilename/maximumByteCount`` bytes of UTF-8.
    case tooLong(byteCount: Int)
    /// The name contains `/` or `\`.
    case pathSeparator
    /// The name contains a control character (U+0000–U+001F or U+007F).
    case controlCharacter
    /// The name contains a character outside ASCII.
    case nonASCII
    /// The name starts with `.`.
    case leadingDot
    /// The name ends in neither `.whl`, `.tar.gz` nor `.zip`.
    case unsupportedExtension
    /// A wheel name does not have the five or six `-`-separated parts of PEP 427.
    case wrongWheelPartCount(Int)
    /// An sdist name has no `-` between the name and the version.
    case missingVersion
    /// The distribution name part is not a valid (escaped) project name. Carries the part.
    case invalidName(String)
    /// The version part is not a PEP 440 version.
    case invalidVersion(VersionError)
    /// A wheel build tag does not start with a digit or contains other than ASCII letters,
    /// digits, `.` and `_`. Carries the tag.
    case invalidBuildTag(String)
    /// A wheel compatibility tag is empty or contains other than ASCII letters, digits and `_`
    /// in its `.`-separated parts. Carries the tag.
    case invalidCompatibilityTag(String)

    public var description: String {
        switch self {
        case .empty:
            return "Invalid file name: the name is empty"
        case .tooLong(let byteCount):
            return "Invalid file name: \(byteCount) bytes long, at most "
                + "\(DistributionFilename.maximumByteCount) allowed"
        case .pathSeparator:
            return "Invalid file name: contains a path separator"
        case .controlCharacter:
            return "Invalid file name: contains a control character"
        case .nonASCII:
            return "Invalid file name: contains a non-ASCII character"
        case .leadingDot:
            return "Invalid file name: starts with '.'"
        case .unsupportedExtension:
            return "Invalid file name: unsupported extension, expected '.whl', '.tar.gz' or '.zip'"
        case .wrongWheelPartCount(let count):
            return "Invalid wheel file name: \(count) '-'-separated parts, expected "
                + "{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl"
        case .missingVersion:
            return "Invalid sdist file name: expected {name}-{version}.tar.gz"
        case .invalidName(let name):
            return "Invalid file name: \(quotedForMessage(name)) is not a valid distribution name"
        case .invalidVersion(let error):
            return "Invalid file name: \(error)"
        case .invalidBuildTag(let tag):
            return "Invalid wheel file name: \(quotedForMessage(tag)) is not a valid build tag"
        case .invalidCompatibilityTag(let tag):
            return "Invalid wheel file name: \(quotedForMessage(tag)) is not a valid compatibility tag"
        }
    }
}
