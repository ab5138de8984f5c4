/// A representation of the simple repository API that this server can send.
enum SimpleFormat: String, Sendable, CaseIterable {
    /// The PEP 691 JSON form.
    case json = "application/vnd.pypi.simple.v1+json"
    /// The PEP 503 HTML form, labelled as version 1 of the API (PEP 691).
    case html = "application/vnd.pypi.simple.v1+html"
    /// The PEP 503 HTML form, labelled as plain HTML for clients that predate PEP 691.
    case legacyHTML = "text/html"

    /// The media type to send in `Content-Type`.
    var mediaType: String {
        self.rawValue
    }

    /// The format a concrete media type names, `nil` if it names none.
    ///
    /// `application/vnd.pypi.simple.latest+json` and `latest+html` name version 1, the latest
    /// version of the API. `name` must already be lowercase.
    init?(mediaType name: String) {
        switch name {
        case "application/vnd.pypi.simple.latest+json": self = .json
        case "application/vnd.pypi.simple.latest+html": self = .html
        default: self.init(rawValue: name)
        }
    }
}

/// PEP 691 content negotiation: which ``SimpleFormat`` to answer a simple API request with.
///
/// The client states what it accepts in the `Accept` header (RFC 9110 §12.5.1): a list of media
/// ranges, each with an optional weight `q` from 0 to 1. For each format the weight comes from
/// the most specific range that matches it (an exact type, then `type/*`, then `*/*`); weight 0
/// means not acceptable. The format with the highest weight wins. On a tie:
/// 1. a format matched by a more specific range wins: a format the client names beats one it
///    only admits through a wildcard;
/// 2. between formats the client names, or admits through `application/*`, the server prefers
///    JSON, then version 1 HTML, then plain HTML;
/// 3. between formats admitted only through `*/*`, the server prefers plain HTML, then JSON,
///    then version 1 HTML. A client that names no format is one that predates PEP 691 (a browser,
///    `curl`, an old installer) and gets plain HTML, as PyPI does. If such a client rules
///    HTML out (`text/html;q=0, */*`), it gets JSON: the format PEP 691 introduced.
///
/// Parameters other than `q` are ignored. Malformed entries are skipped; a header with no
/// well-formed entry, or no header at all, is treated as `*/*`. Several `Accept` fields must be
/// joined with `,` before they are passed in.
enum ContentNegotiation {
    /// The format to answer with, or `nil` when none is acceptable (406 Not Acceptable).
    ///
    /// - Parameters:
    ///   - accept: The `Accept` header value, `nil` if the request has none.
    ///   - formatParameter: The `format` query parameter, a media type that PyPI lets
    ///     override the header. When present it decides alone: a format it names is chosen,
    ///     anything else (wildcards included) is not acceptable.
    static func choose(accept: String?, formatParameter: String?) -> SimpleFormat? {
        if let formatParameter {
            guard let range = MediaRange(parsing: Substring(formatParameter)), range.specificity == .exact else {
                return nil
            }
            return SimpleFormat(mediaType: range.mediaType)
        }
        guard let accept else {
            return .legacyHTML
        }
        let ranges = self.split(Substring(accept), on: UInt8(ascii: ",")).compactMap(MediaRange.init(parsing:))
        guard !ranges.isEmpty else {
            return .legacyHTML
        }

        var best: (format: SimpleFormat, rank: (Int, Int, Int))?
        for format in SimpleFormat.allCases {
            guard let (specificity, weight) = self.preference(for: format, in: ranges), weight > 0 else {
                continue
            }
            let rank = (weight, specificity.rawValue, self.serverPreference(for: format, at: specificity))
            if let current = best, current.rank >= rank {
                continue
            }
            best = (format, rank)
        }
        return best?.format
    }

    /// The specificity and weight of the most specific ranges matching `format`; the highest
    /// weight if several are equally specific. `nil` if no range matches.
    private static func preference(
        for format: SimpleFormat,
        in ranges: [MediaRange]
    ) -> (specificity: MediaRange.Specificity, weight: Int)? {
        var best: (specificity: MediaRange.Specificity, weight: Int)?
        for range in ranges {
            guard let specificity = range.specificity(matching: format) else {
                continue
            }
            if let current = best, (current.specificity, current.weight) >= (specificity, range.weight) {
                continue
            }
            best = (specificity, range.weight)
        }
        return best
    }

    /// How much the server likes to send `format`, higher is better, given how the client
    /// admitted it. See the type's documentation.
    private static func serverPreference(for format: SimpleFormat, at specificity: MediaRange.Specificity) -> Int {
        switch (format, specificity) {
        case (.legacyHTML, .anyType): return 3
        case (.json, .anyType): return 2
        case (.html, .anyType): return 1
        case (.json, _): return 3
        case (.html, _): return 2
        case (.legacyHTML, _): return 1
        }
    }

    /// Splits a header value at `separator`, except inside quoted strings.
    fileprivate static func split(_ value: Substring, on separator: UInt8) -> [Substring] {
        var parts: [Substring] = []
        var start = value.startIndex
        var inQuotes = false
        var escaped = false
        var index = value.utf8.startIndex
        while index != value.utf8.endIndex {
            let byte = value.utf8[index]
            if escaped {
                escaped = false
            } else if inQuotes && byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inQuotes.toggle()
            } else if !inQuotes && byte == separator {
                parts.append(value[start..<index])
                start = value.utf8.index(after: index)
            }
            value.utf8.formIndex(after: &index)
        }
        parts.append(value[start...])
        return parts
    }
}

extension ContentNegotiation {
    /// One element of an `Accept` header: `type/subtype` with its weight.
    struct MediaRange: Equatable {
        /// How precisely a range names a type. Ordered from least to most specific.
        enum Specificity: Int, Comparable {
            /// `*/*`
            case anyType = 0
            /// `type/*`
            case anySubtype = 1
            /// `type/subtype`
            case exact = 2

            static func < (lhs: Self, rhs: Self) -> Bool {
                lhs.rawValue < rhs.rawValue
            }
        }

        /// `type/subtype`, lowercase.
        let mediaType: String
        /// The `q` parameter in thousandths, 1000 when absent.
        let weight: Int

        var specificity: Specificity {
            if self.mediaType == "*/*" { return .anyType }
            return self.mediaType.hasSuffix("/*") ? .anySubtype : .exact
        }

        /// Parses `type/subtype *( OWS ";" OWS parameter )`; `nil` if malformed, including a
        /// malformed `q`.
        init?(parsing element: Substring) {
            let parts = ContentNegotiation.split(element, on: UInt8(ascii: ";"))
            let mediaType = parts[0].trimmingOptionalWhitespace()
            guard let slash = mediaType.utf8.firstIndex(of: UInt8(ascii: "/")) else {
                return nil
            }
            let type = mediaType[..<slash]
            let subtype = mediaType[mediaType.utf8.index(after: slash)...]
            guard Self.isToken(type), Self.isToken(subtype), type != "*" || subtype == "*" else {
                return nil
            }
            var weight: Int?
            for parameter in parts.dropFirst() {
                guard let equals = parameter.utf8.firstIndex(of: UInt8(ascii: "=")),
                    parameter[..<equals].trimmingOptionalWhitespace().lowercased() == "q"
                else {
                    continue
                }
                guard weight == nil else { continue }
                guard let value = Self.weight(parameter[parameter.utf8.index(after: equals)...].trimmingOptionalWhitespace()) else {
                    return nil
                }
                weight = value
            }
            self.mediaType = mediaType.lowercased()
            self.weight = weight ?? 1000
        }

        /// How specifically this range matches `format`, `nil` if it does not.
        func specificity(matching format: SimpleFormat) -> Specificity? {
            switch self.specificity {
            case .anyType:
                return .anyType
            case .anySubtype:
                return format.rawValue.hasPrefix(self.mediaType.dropLast()) ? .anySubtype : nil
            case .exact:
                return SimpleFormat(mediaType: self.mediaType) == format ? .exact : nil
            }
        }

        /// RFC 9110 `qvalue`: `0`, `1`, or up to three decimals, in thousandths.
        private static func weight(_ text: Substring) -> Int? {
            let bytes = Array(text.utf8)
            guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else {
                return nil
            }
            var value = Int(first - UInt8(ascii: "0")) * 1000
            if bytes.count > 1 {
                guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
                var scale = 100
                for digit in bytes[2...] {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
                    value += Int(digit - UInt8(ascii: "0")) * scale
                    scale /= 10
                }
            }
            return value <= 1000 ? value : nil
        }

        /// RFC 9110 `token`: one or more `tchar`.
        private static func isToken(_ text: Substring) -> Bool {
            !text.isEmpty
                && text.utf8.allSatisfy { byte in
                    switch byte {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                        UInt8(ascii: "0")...UInt8(ascii: "9"):
                        return true
                    default:
                        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
                    }
                }
        }

    }
}
