/// A strong entity tag (RFC 9110 §8.8.3), as sent in `ETag`.
///
/// The server makes its tags from content digests, so they are always strong: two
/// representations with the same tag are byte for byte identical.
struct EntityTag: Equatable, Sendable {
    /// The characters between the quotes.
    let opaque: String

    /// Makes a tag from its opaque part.
    ///
    /// - Precondition: `opaque` holds only printable ASCII other than `"` (RFC 9110 `etagc`,
    ///   without the obsolete non-ASCII range). A digest in hex or base64 qualifies.
    init(opaque: String) {
        precondition(opaque.utf8.allSatisfy(Self.isTagCharacter), "an entity tag is printable ASCII without '\"'")
        self.opaque = opaque
    }

    /// The `ETag` header value: the opaque part in double quotes.
    var headerValue: String {
        "\"\(self.opaque)\""
    }

    /// Whether an `If-None-Match` header value names `tag`, in which case a `GET` or `HEAD`
    /// is answered with 304 Not Modified.
    ///
    /// `*` as the whole value matches any tag. Otherwise the value is a comma-separated list of
    /// tags, compared weakly as RFC 9110 §13.1.2 requires: `W/"x"` matches the strong tag `"x"`.
    /// Malformed entries, `*` within a list among them, are skipped; a `nil` or empty value
    /// matches nothing.
    static func ifNoneMatch(_ header: String?, matches tag: EntityTag) -> Bool {
        guard let header else {
            return false
        }
        var scanner = ListScanner(header)
        if scanner.isWildcard {
            return true
        }
        while let opaque = scanner.next() {
            if opaque.utf8.elementsEqual(tag.opaque.utf8) {
                return true
            }
        }
        return false
    }

    /// RFC 9110 `etagc` restricted to ASCII: `!` and `#` to `~`.
    fileprivate static func isTagCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (0x23...0x7E).contains(byte)
    }
}

extension EntityTag {
    /// Reads the opaque parts of a list of entity tags: `"a", W/"b" ,"c,d"`.
    ///
    /// A tag's quotes delimit it, so a comma between them belongs to the tag. An entry that is
    /// not a well-formed tag is skipped up to the next comma outside quotes; after an unbalanced
    /// quote there is none, so no tag that follows is trusted.
    struct ListScanner {
        private let bytes: [UInt8]
        private var index = 0

        init(_ value: String) {
            self.bytes = Array(value.utf8)
        }

        /// Whether the whole value is `*`, surrounded by optional whitespace.
        var isWildcard: Bool {
            self.bytes.filter { !Self.isBlank($0) } == [UInt8(ascii: "*")]
        }

        /// The opaque part of the next well-formed tag, `nil` after the last.
        mutating func next() -> Substring? {
            while self.index < self.bytes.count {
                self.skip { Self.isBlank($0) || $0 == UInt8(ascii: ",") }
                guard self.index < self.bytes.count else {
                    return nil
                }
                if let opaque = self.readTag() {
                    return opaque
                }
                self.skipMalformedEntry()
            }
            return nil
        }

        /// Reads `[W/] "etagc*"` followed by whitespace and then a comma or the end.
        private mutating func readTag() -> Substring? {
            if self.bytes[self.index...].starts(with: "W/".utf8) {
                self.index += 2
            }
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                return nil
            }
            let start = self.index + 1
            guard let close = self.bytes[start...].firstIndex(of: UInt8(ascii: "\"")),
                self.bytes[start..<close].allSatisfy(EntityTag.isTagCharacter)
            else {
                return nil
            }
            self.index = close + 1
            self.skip(Self.isBlank)
            guard self.index == self.bytes.count || self.bytes[self.index] == UInt8(ascii: ",") else {
                return nil
            }
            return Substring(decoding: self.bytes[start..<close], as: UTF8.self)
        }

        /// Moves past the current entry: to the next comma that is not inside quotes.
        private mutating func skipMalformedEntry() {
            var inQuotes = false
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                if byte == UInt8(ascii: "\"") {
                    inQuotes.toggle()
                } else if byte == UInt8(ascii: ","), !inQuotes {
                    return
                }
                self.index += 1
            }
        }

        private mutating func skip(_ predicate: (UInt8) -> Bool) {
            while self.index < self.bytes.count, predicate(self.bytes[self.index]) {
                self.index += 1
            }
        }

        private static func isBlank(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
        }
    }
}
