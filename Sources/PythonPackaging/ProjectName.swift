/// The name of a Python project, as declared in its core metadata `Name` field.
///
/// A valid name consists of ASCII letters, digits, `.`, `_` and `-`, and starts and ends with
/// a letter or digit. Two names denote the same project when their PEP 503 normalised forms are
/// equal, so `Foo.Bar`, `foo_bar` and `FOO--bar` are one project: equality and hashing use
/// ``normalized``, while ``raw`` keeps the spelling the project chose for display.
public struct ProjectName: Hashable, Sendable, CustomStringConvertible {
    /// The longest name accepted, in characters.
    ///
    /// Distribution file names are limited to 255 bytes; a 200-character name leaves room for
    /// the version, tags and extension.
    public static let maximumLength = 200

    /// The name exactly as given.
    public let raw: String

    /// The PEP 503 normalised name: lowercase, each run of `-`, `_` and `.` replaced by one `-`.
    public let normalized: String

    /// Validates `raw` as a core-metadata project name.
    public init(validating raw: String) throws(ProjectNameError) {
        let bytes = raw.utf8
        guard let first = bytes.first, let last = bytes.last else {
            throw .empty
        }
        if let invalid = raw.unicodeScalars.first(where: { !Self.isAllowed($0) }) {
            throw .invalidCharacter(invalid)
        }
        // Every scalar is ASCII from here on, so bytes and characters coincide.
        guard bytes.count <= Self.maximumLength else {
            throw .tooLong(length: bytes.count)
        }
        guard ASCII.isLetterOrDigit(first), ASCII.isLetterOrDigit(last) else {
            throw .invalidBoundary
        }
        self.raw = raw
        self.normalized = Self.normalize(raw)
    }

    /// The PEP 503 normalised form of any string, valid name or not.
    ///
    /// Use it to look up whatever name a client asks for: `Foo.Bar__baz` becomes `foo-bar-baz`.
    /// Lowercasing follows Unicode, like Python's `str.lower`, although only ASCII names can be
    /// valid.
    public static func normalize(_ name: some StringProtocol) -> String {
        let lowered = name.lowercased()
        var output: [UInt8] = []
        output.reserveCapacity(lowered.utf8.count)
        var inSeparatorRun = false
        for byte in lowered.utf8 {
            if ASCII.isNameSeparator(byte) {
                if !inSeparatorRun {
                    output.append(UInt8(ascii: "-"))
                    inSeparatorRun = true
                }
            } else {
                output.append(byte)
                inSeparatorRun = false
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    public var description: String {
        self.raw
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.normalized == rhs.normalized
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.normalized)
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let byte = UInt8(scalar.value)
        return ASCII.isLetterOrDigit(byte) || ASCII.isNameSeparator(byte)
    }
}
