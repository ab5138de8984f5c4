/// A recursive-descent recogniser for the PEP 440 grammar, with the leniency of
/// `packaging.version.VERSION_PATTERN`:
///
/// ```text
/// version  = [v] [N "!"] N ("." N)* [pre] [post] [dev] ["+" local]
/// pre      = [sep] ("alpha" | "a" | "beta" | "b" | "preview" | "pre" | "c" | "rc") [sep] [N]
/// post     = "-" N | [sep] ("post" | "rev" | "r") [sep] [N]
/// dev      = [sep] "dev" [sep] [N]
/// local    = alnum+ (sep alnum+)*
/// sep      = "." | "_" | "-"
/// ```
///
/// Letters match case-insensitively, surrounding whitespace is ignored, and each optional
/// segment, once it matches, is kept (the pattern's segments are possessive), which the
/// first-match-wins order of the alternatives above reproduces.
struct VersionParser {
    private let bytes: [UInt8]
    private var position: Int
    /// Set when a number did not fit in `Int`; reported only if the whole string is valid.
    private var overflowed = false

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
    }

    static func parse(_ string: some StringProtocol) throws(VersionError) -> Version {
        let scalars = string.unicodeScalars
        guard
            let first = scalars.firstIndex(where: { !isPatternWhitespace($0) }),
            let last = scalars.lastIndex(where: { !isPatternWhitespace($0) })
        else {
            throw .empty
        }
        let core = scalars[first...last]
        guard core.allSatisfy(\.isASCII) else {
            throw .invalid(String(string))
        }
        var parser = VersionParser(core.map { UInt8($0.value) })
        guard let version = parser.parseVersion() else {
            throw .invalid(String(string))
        }
        guard !parser.overflowed else {
            throw .numberOutOfRange(String(string))
        }
        return version
    }

    /// Whether Python's `\s` matches the scalar, which is what `packaging` strips.
    static func isPatternWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A,
            0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    // MARK: Segments

    private mutating func parseVersion() -> Version? {
        _ = self.consume(keyword: "v")
        var epoch = 0
        let start = self.position
        if let number = self.number(), self.consume(UInt8(ascii: "!")) {
            epoch = number
        } else {
            self.position = start
        }
        guard let release = self.release() else {
            return nil
        }
        let preRelease = self.optionally { (parser: inout Self) in parser.preRelease() }
        let postRelease = self.optionally { (parser: inout Self) in parser.postRelease() }
        let devRelease = self.optionally { (parser: inout Self) in parser.devRelease() }
        var localSegments: [LocalVersionSegment]?
        if self.consume(UInt8(ascii: "+")) {
            guard let segments = self.localSegments() else {
                return nil
            }
            localSegments = segments
        }
        guard self.position == self.bytes.endIndex else {
            return nil
        }
        return Version(
            epoch: epoch,
            release: release,
            preRelease: preRelease,
            postRelease: postRelease,
            devRelease: devRelease,
            localSegments: localSegments
        )
    }

    private mutating func release() -> [Int]? {
        guard let first = self.number() else {
            return nil
        }
        var components = [first]
        while self.peek() == UInt8(ascii: "."), self.peek(offset: 1).map(ASCII.isDigit) == true {
            self.position += 1
            components.append(self.number()!)
        }
        return components
    }

    private static let preReleaseSpellings: [(String, Version.PreRelease.Phase)] = [
        ("alpha", .alpha), ("a", .alpha), ("beta", .beta), ("b", .beta),
        ("preview", .releaseCandidate), ("pre", .releaseCandidate),
        ("c", .releaseCandidate), ("rc", .releaseCandidate),
    ]

    private mutating func preRelease() -> Version.PreRelease? {
        self.skipSeparator()
        guard let phase = Self.preReleaseSpellings.first(where: { self.consume(keyword: $0.0) })?.1 else {
            return nil
        }
        self.skipSeparator()
        return Version.PreRelease(phase: phase, number: self.number() ?? 0)
    }

    private mutating func postRelease() -> Int? {
        // The implicit spelling `1.0-1`.
        if self.peek() == UInt8(ascii: "-"), self.peek(offset: 1).map(ASCII.isDigit) == true {
            self.position += 1
            return self.number()
        }
        self.skipSeparator()
        guard self.consume(keyword: "post") || self.consume(keyword: "rev") || self.consume(keyword: "r") else {
            return nil
        }
        self.skipSeparator()
        return self.number() ?? 0
    }

    private mutating func devRelease() -> Int? {
        self.skipSeparator()
        guard self.consume(keyword: "dev") else {
            return nil
        }
        self.skipSeparator()
        return self.number() ?? 0
    }

    private mutating func localSegments() -> [LocalVersionSegment]? {
        var segments: [LocalVersionSegment] = []
        repeat {
            let start = self.position
            while let byte = self.peek(), ASCII.isLetterOrDigit(byte) {
                self.position += 1
            }
            guard self.position > start else {
                return nil
            }
            segments.append(LocalVersionSegment(self.bytes[start..<self.position]))
        } while self.skipSeparator(onlyBefore: ASCII.isLetterOrDigit)
        return segments
    }

    // MARK: Lexing

    /// Runs `segment`; if it does not match, rewinds to where it started.
    private mutating func optionally<Value>(_ segment: (inout Self) -> Value?) -> Value? {
        let start = self.position
        if let value = segment(&self) {
            return value
        }
        self.position = start
        return nil
    }

    private func peek(offset: Int = 0) -> UInt8? {
        let index = self.position + offset
        return index < self.bytes.endIndex ? self.bytes[index] : nil
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard self.peek() == byte else {
            return false
        }
        self.position += 1
        return true
    }

    /// Consumes `keyword` (lowercase ASCII) if the input continues with it in any case.
    private mutating func consume(keyword: String) -> Bool {
        var index = self.position
        for expected in keyword.utf8 {
            guard index < self.bytes.endIndex, ASCII.lowercased(self.bytes[index]) == expected else {
                return false
            }
            index += 1
        }
        self.position = index
        return true
    }

    /// Consumes one `.`, `_` or `-` if present.
    private mutating func skipSeparator() {
        if let byte = self.peek(), ASCII.isNameSeparator(byte) {
            self.position += 1
        }
    }

    /// Consumes one separator if the byte after it satisfies `next`; tells whether it did.
    private mutating func skipSeparator(onlyBefore next: (UInt8) -> Bool) -> Bool {
        guard let byte = self.peek(), ASCII.isNameSeparator(byte), let following = self.peek(offset: 1),
            next(following)
        else {
            return false
        }
        self.position += 1
        return true
    }

    /// Consumes a run of ASCII digits as a decimal number; `nil` if there is no digit here.
    ///
    /// A number beyond `Int.max` sets ``overflowed`` and yields `Int.max`.
    private mutating func number() -> Int? {
        let start = self.position
        var value = 0
        while let byte = self.peek(), ASCII.isDigit(byte) {
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int(byte &- UInt8(ascii: "0")))
            if overflowA || overflowB {
                self.overflowed = true
                value = .max
            } else {
                value = sum
            }
            self.position += 1
        }
        return self.position > start ? value : nil
    }
}
