/// Why bytes are not acceptable as the core metadata of a distribution.
///
/// Each ``description`` is a message fit to send back to the client; untrusted parts are quoted
/// and escaped.
public enum CoreMetadataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The metadata is longer than the limit given to the parser, in bytes. Carries the limit.
    case tooLarge(limit: Int)
    /// The metadata is not valid UTF-8.
    case notUTF8
    /// A header line is neither a `Name: value` field nor a continuation of one. Carries the
    /// line number, counting from 1.
    case malformedLine(Int)
    /// A required field is absent or empty. Carries the field name.
    case missingField(String)
    /// A field that may appear only once appears again. Carries the field name as written.
    case duplicateField(String)
    /// The `Name` field is not a valid project name.
    case invalidName(ProjectNameError)
    /// The `Version` field is not a PEP 440 version.
    case invalidVersion(VersionError)

    public var description: String {
        switch self {
        case .tooLarge(let limit):
            return "Invalid metadata: larger than \(limit) bytes"
        case .notUTF8:
            return "Invalid metadata: not valid UTF-8"
        case .malformedLine(let line):
            return "Invalid metadata: line \(line) is not a 'Name: value' header field"
        case .missingField(let name):
            return "Invalid metadata: the required field \(quotedForMessage(name)) is missing"
        case .duplicateField(let name):
            return "Invalid metadata: the field \(quotedForMessage(name)) appears more than once"
        case .invalidName(let error):
            return "Invalid metadata: \(error)"
        case .invalidVersion(let error):
            return "Invalid metadata: \(error)"
        }
    }
}
