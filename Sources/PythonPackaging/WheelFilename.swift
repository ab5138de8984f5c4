/// The name of a wheel file, PEP 427 / PEP 491:
/// `{distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl`.
///
/// Each tag may be a compressed tag set, `.`-separated: `py2.py3-none-any`.
public struct WheelFilename: Hashable, Sendable, CustomStringConvertible {
    /// The file name as given.
    public let filename: String
    /// The distribution name as written in the file name, e.g. `foo_bar`.
    public let nameComponent: String
    /// The distribution name; it has the same normalised form as the project's name.
    public let name: ProjectName
    /// The version as written in the file name.
    public let versionComponent: String
    public let version: Version
    public let buildTag: BuildTag?
    /// The Python tags, e.g. `["py2", "py3"]`.
    public let pythonTags: [String]
    /// The ABI tags, e.g. `["cp311"]` or `["none"]`.
    public let abiTags: [String]
    /// The platform tags, e.g. `["manylinux_2_17_x86_64", "manylinux2014_x86_64"]`.
    public let platformTags: [String]

    /// Parses a wheel file name, after the screening that ``DistributionFilename`` applies.
    public init(parsing filename: String) throws(DistributionFilenameError) {
        try FilenameScreening.screen(filename)
        guard case (let stem, .wheel) = try FilenameScreening.split(filename) else {
            throw .unsupportedExtension
        }
        try self.init(filename: filename, stem: stem)
    }

    /// Parses the stem of a screened file name.
    init(filename: String, stem: Substring) throws(DistributionFilenameError) {
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 5 || parts.count == 6 else {
            throw .wrongWheelPartCount(parts.count)
        }
        self.filename = filename
        self.nameComponent = String(parts[0])
        self.name = try Self.distributionName(parts[0])
        self.versionComponent = String(parts[1])
        self.version = try FilenameScreening.version(parts[1])
        self.buildTag = parts.count == 6 ? try BuildTag(parsing: parts[2]) : nil
        self.pythonTags = try Self.tagSet(parts[parts.count - 3])
        self.abiTags = try Self.tagSet(parts[parts.count - 2])
        self.platformTags = try Self.tagSet(parts[parts.count - 1])
    }

    public var description: String {
        self.filename
    }

    /// Whether the wheel names this project (by normalised name) and this version (by PEP 440
    /// equality).
    public func matches(name: ProjectName, version: Version) -> Bool {
        self.name == name && self.version == version
    }

    /// Validates an escaped distribution name: a valid project name, in which PEP 427 escaping
    /// has replaced every `-` (so there is none) and folded each run of separators into one
    /// `_` (so there is no `__`), as `packaging.utils.parse_wheel_filename` requires.
    private static func distributionName(_ component: Substring) throws(DistributionFilenameError) -> ProjectName {
        guard !component.contains("__"), let name = try? ProjectName(validating: String(component)) else {
            throw .invalidName(String(component))
        }
        return name
    }

    /// Splits a compressed tag set at `.`; each tag is ASCII letters, digits and `_`.
    private static func tagSet(_ component: Substring) throws(DistributionFilenameError) -> [String] {
        let tags = component.split(separator: ".", omittingEmptySubsequences: false)
        let isValid = tags.allSatisfy { tag in
            !tag.isEmpty && tag.utf8.allSatisfy { ASCII.isLetterOrDigit($0) || $0 == UInt8(ascii: "_") }
        }
        guard isValid else {
            throw .invalidCompatibilityTag(String(component))
        }
        return tags.map(String.init)
    }
}

extension WheelFilename {
    /// The optional build tag of a wheel: a number, then an optional string suffix.
    ///
    /// Build tags break ties between wheels of one version and one set of tags, ordering by
    /// number, then by suffix; equality follows the same key, so `01` equals `1`.
    public struct BuildTag: Hashable, Comparable, Sendable, CustomStringConvertible {
        /// The tag as written.
        public let raw: String
        /// The leading digits as a number.
        public let number: Int
        /// What follows the leading digits, possibly empty.
        public let suffix: String

        /// Parses a build tag: leading ASCII digits, then ASCII letters, digits, `.` and `_`.
        public init(parsing raw: some StringProtocol) throws(DistributionFilenameError) {
            let bytes = raw.utf8
            let digits = bytes.prefix(while: ASCII.isDigit)
            var number = 0
            for digit in digits {
                let (shifted, overflowA) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = shifted.addingReportingOverflow(Int(digit &- UInt8(ascii: "0")))
                guard !overflowA, !overflowB else {
                    throw .invalidBuildTag(String(raw))
                }
                number = sum
            }
            let rest = bytes.dropFirst(digits.count)
            let isValidSuffix = rest.allSatisfy {
                ASCII.isLetterOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
            }
            guard !digits.isEmpty, isValidSuffix else {
                throw .invalidBuildTag(String(raw))
            }
            self.raw = String(raw)
            self.number = number
            self.suffix = String(decoding: rest, as: UTF8.self)
        }

        public var description: String {
            self.raw
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.number == rhs.number && lhs.suffix == rhs.suffix
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(self.number)
            hasher.combine(self.suffix)
        }

        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.number, lhs.suffix) < (rhs.number, rhs.suffix)
        }
    }
}
