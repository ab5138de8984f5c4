/// Why a string is not a PEP 440 version.
public enum VersionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The string is empty or only whitespace.
    case empty
    /// The string does not follow the PEP 440 grammar. Carries the input.
    case invalid(String)
    /// The string follows the grammar but a number in it exceeds `Int.max`. Carries the input.
    case numberOutOfRange(String)

    public var description: String {
        switch self {
        case .empty:
            return "Invalid version: the version is empty"
        case .invalid(let input):
            return "Invalid version: \(quotedForMessage(input)) is not a PEP 440 version"
        case .numberOutOfRange(let input):
            return "Invalid version: \(quotedForMessage(input)) contains a number that is too large"
        }
    }
}
