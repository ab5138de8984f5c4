/// Keeps Ink's link parser from backtracking. Ink tries a link at every `[` and, when the attempt
/// fails, tries again from the next character, so `[` nested in a failing link's text costs twice as
/// much for each level (20 bytes of `[` take seconds, `[\]` or ``[`]` `` repeated hide the `]` from
/// any bracket count). So before Ink sees a text, every `[` that does not begin a link Ink will parse
/// at once (`[text](url)`, `[text][ref]`, `![alt](url)`, a badge `[![alt](img)](url)`, a reference
/// definition `[ref]: url`) is replaced by a private-use character, which Ink reads as plain text,
/// and put back in Ink's output. A `[` kept is one whose link text holds nothing that could hide its
/// `]` (a backslash before it, inline code around it, an entity or HTML other than a self-closing
/// tag spanning it, a combining
/// mark making it part of another character: Ink reads characters, not bytes), so that Ink's attempt
/// from it ends at that `]` and succeeds, or fails at once: no position is read more than a few times. A link this
/// does not recognise shows as its text, brackets and all, as plain text; nothing else changes.
enum LinkBrackets {
    /// U+F0000, the first character of Supplementary Private Use Area-A: no README needs it, and one
    /// that has it gets U+FFFD in its place.
    static let stand_in: Unicode.Scalar = "\u{F0000}"
    private static let standInBytes = Array(String(stand_in).utf8)

    /// `markdown` with every `[` that begins no link Ink can parse at once replaced by the stand-in.
    static func hide(in markdown: String) -> String {
        let bytes = Array(markdown.utf8)
        var scanner = Scanner(bytes: bytes)
        scanner.findLinks()
        var hidden: [UInt8] = []
        hidden.reserveCapacity(bytes.count + 64)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "["), !scanner.kept[index] {
                hidden.append(contentsOf: standInBytes)
            } else if byte == standInBytes[0], bytes[index...].starts(with: standInBytes) {
                hidden.append(contentsOf: Array("\u{FFFD}".utf8))
                index += standInBytes.count
                continue
            } else {
                hidden.append(byte)
            }
            index += 1
        }
        return String(decoding: hidden, as: UTF8.self)
    }

    /// Ink's output with the stand-ins turned back into `[`.
    static func restore(in html: String) -> String {
        guard html.unicodeScalars.contains(stand_in) else { return html }
        return String(String.UnicodeScalarView(html.unicodeScalars.map { $0 == stand_in ? "[" : $0 }))
    }

    /// One pass over the text, marking the `[` of each link it recognises (and the second `[` of a
    /// reference link, which Ink reads as part of the first).
    ///
    /// Linear time: the text of the link tried from one `[` is scanned no further than the next `[`
    /// (inline code or an entity that would hold a `[` makes the link unclear, and it is not kept),
    /// and where each `(` closes, and the next `]` on each line, are found beforehand in one pass each.
    private struct Scanner {
        let bytes: [UInt8]
        var kept: [Bool]
        /// For each `(`, the index of its balancing `)` on the same line, or -1.
        private let closingParenthesis: [Int]
        /// For each byte, the index of the next standalone `]` on its line, or -1.
        private let nextClosingBracket: [Int]

        init(bytes: [UInt8]) {
            self.bytes = bytes
            kept = [Bool](repeating: false, count: bytes.count)
            closingParenthesis = Self.closingParentheses(in: bytes)
            nextClosingBracket = Self.nextClosingBrackets(in: bytes)
        }

        private static func closingParentheses(in bytes: [UInt8]) -> [Int] {
            var closing = [Int](repeating: -1, count: bytes.count)
            var open: [Int] = []
            for index in bytes.indices {
                let byte = bytes[index]
                if byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")") {
                    if !bytes.isStandaloneASCII(at: index) {
                        // Ink may not see this one as a parenthesis: the open ones reach it first.
                        open.removeAll()
                    } else if byte == UInt8(ascii: "(") {
                        open.append(index)
                    } else if let opening = open.popLast() {
                        closing[opening] = index
                    }
                } else if isLineBreak(at: index, in: bytes) {
                    open.removeAll()
                }
            }
            return closing
        }

        private static func nextClosingBrackets(in bytes: [UInt8]) -> [Int] {
            var next = [Int](repeating: -1, count: bytes.count)
            var closing = -1
            for index in bytes.indices.reversed() {
                if isLineBreak(at: index, in: bytes) {
                    closing = -1
                } else if bytes[index] == UInt8(ascii: "]"), bytes.isStandaloneASCII(at: index) {
                    closing = index
                }
                next[index] = closing
            }
            return next
        }

        mutating func findLinks() {
            var index = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "["), let end = link(at: index) {
                    index = end
                } else {
                    index += 1
                }
            }
        }

        /// The end of the link whose `[` is at `start`, with its brackets marked kept.
        private mutating func link(at start: Int) -> Int? {
            if let end = badge(at: start) { return end }
            guard let close = textEnd(from: start + 1) else { return nil }
            if let end = destinationEnd(after: close) {
                kept[start] = true
                return end
            }
            if isLineStart(start), close + 2 < bytes.count, bytes[close + 1] == UInt8(ascii: ":"),
                bytes[close + 2] == UInt8(ascii: " ") || bytes[close + 2] == UInt8(ascii: "\t")
            {
                kept[start] = true
                return close + 1
            }
            return nil
        }

        /// `[![alt](img)](url)`: a link whose whole text is one image.
        private mutating func badge(at start: Int) -> Int? {
            let image = start + 2
            guard image < bytes.count, bytes[start + 1] == UInt8(ascii: "!"), bytes[image] == UInt8(ascii: "["),
                let imageClose = textEnd(from: image + 1), let imageEnd = destinationEnd(after: imageClose),
                imageEnd < bytes.count, bytes[imageEnd] == UInt8(ascii: "]"), let end = destinationEnd(after: imageEnd)
            else {
                return nil
            }
            kept[start] = true
            kept[image] = true
            return end
        }

        /// Where the link text from `start` ends (its `]`), if Ink's text parser will stop there.
        private func textEnd(from start: Int) -> Int? {
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "]"):
                    return isPlain(at: index) ? index : nil
                case UInt8(ascii: "["):
                    return nil
                case UInt8(ascii: "<"):
                    // A self-closing tag (a logo's `<img … />`) ends at its `>`; `<` before a space is a
                    // plain character. Any other tag: Ink reads on to its end tag, wherever that is.
                    guard isPlain(at: index), index + 1 < bytes.count else { return nil }
                    let next = bytes[index + 1]
                    if next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") { break }
                    guard next | 0x20 != UInt8(ascii: "p"), let close = selfClosingTagEnd(from: index + 1) else { return nil }
                    index = close
                case UInt8(ascii: "!") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "["):
                    return nil
                case UInt8(ascii: "\\"):
                    // Ink takes no `]` after a backslash as the end of a link's text.
                    guard isPlain(at: index), index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "]") else { return nil }
                case UInt8(ascii: "`"):
                    // Inline code, up to the next backtick on the line: a `]` in it is code.
                    guard isPlain(at: index), let closing = codeEnd(from: index + 1) else { return nil }
                    index = closing
                case UInt8(ascii: "&"):
                    // Ink reads an entity up to a `;` before any space or line end, and nothing in it
                    // counts; without the `;`, the `&` is a plain character.
                    switch entity(from: index) {
                    case .unclear: return nil
                    case .none: break
                    case .through(let semicolon): index = semicolon
                    }
                case UInt8(ascii: "\n"):
                    // Ink's text goes on to the next line unless that line could start a block.
                    guard index + 1 < bytes.count, !Self.endsText(bytes[index + 1]) else { return nil }
                case let byte where Self.isOtherLineBreak(byte, at: index, in: bytes):
                    return nil
                default:
                    break
                }
                index += 1
            }
            return nil
        }

        /// After the link text's `]`: `(url)` with balanced parentheses on one line, or `[ref]` on one
        /// line (that `[` is kept too: Ink reads it as part of the link). The index past it.
        private mutating func destinationEnd(after close: Int) -> Int? {
            let open = close + 1
            guard open < bytes.count, isPlain(at: open) else { return nil }
            if bytes[open] == UInt8(ascii: "(") {
                let closing = closingParenthesis[open]
                return closing < 0 ? nil : closing + 1
            }
            if bytes[open] == UInt8(ascii: "["), open + 1 < bytes.count {
                // Ink reads the reference up to the next `]` it sees, on the same line.
                let closing = nextClosingBracket[open + 1]
                guard closing >= 0 else { return nil }
                kept[open] = true
                return closing + 1
            }
            return nil
        }

        /// The `>` of a tag that ends `/>` on the same line, before any `[` or `]`.
        private func selfClosingTagEnd(from start: Int) -> Int? {
            var index = start
            while index < bytes.count, !isLineBreak(at: index), bytes[index] != UInt8(ascii: "["), bytes[index] != UInt8(ascii: "]") {
                if bytes[index] == UInt8(ascii: ">"), isPlain(at: index) {
                    return bytes[index - 1] == UInt8(ascii: "/") && isPlain(at: index - 1) ? index : nil
                }
                index += 1
            }
            return nil
        }

        /// The closing backtick of inline code, on the same line; nil past a `[` (see the linear time note).
        private func codeEnd(from start: Int) -> Int? {
            var index = start
            while index < bytes.count, !isLineBreak(at: index), bytes[index] != UInt8(ascii: "[") {
                if bytes[index] == UInt8(ascii: "`") { return isPlain(at: index) ? index : nil }
                index += 1
            }
            return nil
        }

        private enum Entity {
            /// No `;` before a space or line end: the `&` is a plain character.
            case none
            /// Up to this `;`.
            case through(Int)
            /// Not ASCII: where Ink's reading stops depends on Unicode's whitespace and characters.
            case unclear
        }

        private func entity(from ampersand: Int) -> Entity {
            guard isPlain(at: ampersand) else { return .unclear }
            var index = ampersand + 1
            while index < bytes.count, !isLineBreak(at: index), bytes[index] != UInt8(ascii: " "), bytes[index] != UInt8(ascii: "\t") {
                if bytes[index] >= 0x80 || bytes[index] == UInt8(ascii: "[") { return .unclear }
                if bytes[index] == UInt8(ascii: ";") { return .through(index) }
                index += 1
            }
            return .none
        }

        private func isPlain(at index: Int) -> Bool { bytes.isStandaloneASCII(at: index) }

        /// Only spaces and tabs before `index` on its line (Ink skips them before a block).
        private func isLineStart(_ index: Int) -> Bool {
            var start = index
            while start > 0, bytes[start - 1] == UInt8(ascii: " ") || bytes[start - 1] == UInt8(ascii: "\t") { start -= 1 }
            return start == 0 || bytes[start - 1] == UInt8(ascii: "\n")
        }

        private func isLineBreak(at index: Int) -> Bool { Self.isLineBreak(at: index, in: bytes) }

        private static func isLineBreak(at index: Int, in bytes: [UInt8]) -> Bool {
            bytes[index] == UInt8(ascii: "\n") || isOtherLineBreak(bytes[index], at: index, in: bytes)
        }

        /// What Swift's `Character.isNewline` takes for a line end besides `\n`: `\r`, vertical tab,
        /// form feed, U+0085 (0xC2 0x85) and U+2028/U+2029 (0xE2 0x80 0xA8/0xA9).
        private static func isOtherLineBreak(_ byte: UInt8, at index: Int, in bytes: [UInt8]) -> Bool {
            switch byte {
            case 0x0B, 0x0C, 0x0D:
                return true
            case 0xC2:
                return index + 1 < bytes.count && bytes[index + 1] == 0x85
            case 0xE2:
                return index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9)
            default:
                return false
            }
        }

        /// The first characters of a line at which Ink's inline text stops (a new block may begin).
        private static func endsText(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: "`")
                || byte == UInt8(ascii: "-") || byte == 0x0D || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
        }
    }
}
