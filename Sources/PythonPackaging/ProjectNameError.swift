/// Why a string is not a valid project name.
public enum ProjectNameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name is empty.
    case empty
    /// The name is longer than ``ProjectName/maximumLength`` characters.
    case tooLong(length: Int)
    /// The name contains a character other than an ASCII letter, digit, `.`, `_` or `-`.
    case invalidCharacter(Unicode.Scalar)
    /// The name starts or ends with `.`, `_` or `-`.
    case invalidBoundary

    public var description: String {
        switch self {
        case .empty:
            return "Invalid project name: the name is empty"
        case .tooLong(let length):
            return "Invalid project name: \(length) characters long, at most \(ProjectName.maximumLength) allowed"
        case .invalidCharacter(let scalar):
            return "Invalid project name: character '\(escapedForMessage(scalar))' is not allowed; "
                + "use ASCII letters, digits, '.', '_' and '-'"
        case .invalidBoundary:
            return "Invalid project name: it must start and end with an ASCII letter or digit"
        }
    }
}
