/// Keeps Ink from swallowing the rest of a README. Ink takes any `<name …>` that does not end `/>`
/// for the start of an HTML element and passes everything up to its end tag through as raw HTML, so
/// an autolink (`<https://example.com>`, `<dev@example.com>`) or a void tag written the HTML way
/// (`<br>`, `<img src=…>`), which never get an end tag, turn all the Markdown after them into
/// unrendered text. So before Ink sees a text, the `<` and `>` of those are replaced by private-use
/// stand-ins, which Ink reads as plain text, and put back in Ink's output: inside code as the
/// characters they were (`&lt;`, `&gt;`), elsewhere as the tag (for the sanitiser to judge) or, for
/// an autolink, as a link.
enum SwallowingTags {
    /// U+F0001 and U+F0002, beside `LinkBrackets`' stand-in: no README needs them, and one that has
    /// them gets U+FFFD in their place.
    static let openStandIn: Unicode.Scalar = "\u{F0001}"
    static let closeStandIn: Unicode.Scalar = "\u{F0002}"

    /// HTML's void elements: they have no end tag.
    private static let voidElements: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    ]

    static func hide(in markdown: String) -> String {
        let bytes = Array(markdown.utf8)
        var replaced = [Bool](repeating: false, count: bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "<"), bytes.isStandaloneASCII(at: index),
                let close = autolinkEnd(in: bytes, at: index) ?? voidTagEnd(in: bytes, at: index)
            {
                replaced[index] = true
                replaced[close] = true
                index = close + 1
            } else {
                index += 1
            }
        }
        var hidden = String.UnicodeScalarView()
        var offset = 0
        for scalar in markdown.unicodeScalars {
            if scalar == openStandIn || scalar == closeStandIn {
                hidden.append("\u{FFFD}")
            } else if scalar == "<", replaced[offset] {
                hidden.append(openStandIn)
            } else if scalar == ">", replaced[offset] {
                hidden.append(closeStandIn)
            } else {
                hidden.append(scalar)
            }
            offset += UTF8.width(scalar)
        }
        return String(hidden)
    }

    /// Ink's output with the stand-ins put back: inside `<code>` or inside a tag (a link's URL) as
    /// escaped characters, elsewhere an autolink as a link and a void tag as the tag.
    static func restore(in html: String) -> String {
        let bytes = Array(html.utf8)
        guard bytes.contains(standInLead) else { return html }
        var restored: [UInt8] = []
        restored.reserveCapacity(bytes.count + bytes.count / 8)
        var codeDepth = 0
        var inTag = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                inTag = true
                if matches(bytes, at: index, "<code>") || matches(bytes, at: index, "<code ") {
                    codeDepth += 1
                } else if matches(bytes, at: index, "</code>") {
                    codeDepth = Swift.max(0, codeDepth - 1)
                }
            } else if byte == UInt8(ascii: ">") {
                inTag = false
            }
            let isOpen = isStandIn(openBytes, in: bytes, at: index)
            guard isOpen || isStandIn(closeBytes, in: bytes, at: index) else {
                restored.append(byte)
                index += 1
                continue
            }
            if codeDepth > 0 || inTag {
                restored.append(contentsOf: (isOpen ? "&lt;" : "&gt;").utf8)
            } else if isOpen, let close = closingStandIn(in: bytes, after: index + 4), let link = autolink(bytes[(index + 4)..<close]) {
                restored.append(contentsOf: link)
                index = close + 4
                continue
            } else {
                restored.append(isOpen ? UInt8(ascii: "<") : UInt8(ascii: ">"))
            }
            index += 4
        }
        return String(decoding: restored, as: UTF8.self)
    }

    private static let openBytes = Array(String(openStandIn).utf8)
    private static let closeBytes = Array(String(closeStandIn).utf8)
    private static let standInLead = openBytes[0]

    private static func isStandIn(_ standIn: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        bytes[index] == standInLead && index + 4 <= bytes.count && bytes[index..<(index + 4)].elementsEqual(standIn)
    }

    /// The closing stand-in of an autolink, which is never far (an autolink is at most 2 KiB).
    private static func closingStandIn(in bytes: [UInt8], after start: Int) -> Int? {
        var index = start
        while index < Swift.min(bytes.count, start + 4 * 2048) {
            if isStandIn(closeBytes, in: bytes, at: index) { return index }
            if isStandIn(openBytes, in: bytes, at: index) { return nil }
            index += 1
        }
        return nil
    }

    // MARK: Recognising them

    /// `<scheme:anything-but-space-and-angle-brackets>` or `<local@domain>`: the `>`'s index.
    private static func autolinkEnd(in bytes: [UInt8], at start: Int) -> Int? {
        var index = start + 1
        var sawColon = false
        var sawAt = false
        while index < bytes.count, index - start < 2048 {
            let byte = bytes[index]
            if byte == UInt8(ascii: ">") {
                let body = bytes[(start + 1)..<index]
                guard !body.isEmpty, bytes.isStandaloneASCII(at: index) else { return nil }
                return sawColon && isScheme(body.prefix { $0 != UInt8(ascii: ":") }) || sawAt && isEmail(body) ? index : nil
            }
            if byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "<") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
                || byte >= 0x80
            {
                return nil
            }
            if byte == UInt8(ascii: ":") { sawColon = true }
            if byte == UInt8(ascii: "@") { sawAt = true }
            index += 1
        }
        return nil
    }

    private static func isScheme(_ name: ArraySlice<UInt8>) -> Bool {
        guard let first = name.first, first.isASCIILetter, (2...32).contains(name.count) else { return false }
        return name.allSatisfy {
            $0.isASCIILetter || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "-")
        }
    }

    private static func isEmail(_ body: ArraySlice<UInt8>) -> Bool {
        let parts = body.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains(UInt8(ascii: ".")) else { return false }
        return parts[1].allSatisfy { $0.isASCIILetter || (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `<br>`, `<img src=…>` and the like, not already `/>`, ending on the same line: the `>`'s index.
    /// (The search stops at the next `<`, so each byte is looked at once.)
    private static func voidTagEnd(in bytes: [UInt8], at start: Int) -> Int? {
        var nameEnd = start + 1
        while nameEnd < bytes.count, bytes[nameEnd].isASCIILetter, nameEnd - start <= 6 { nameEnd += 1 }
        guard nameEnd < bytes.count, nameEnd > start + 1 else { return nil }
        let name = String(decoding: bytes[(start + 1)..<nameEnd].map { $0 | 0x20 }, as: UTF8.self)
        guard voidElements.contains(name), bytes[nameEnd].isHTMLWhitespace || bytes[nameEnd] == UInt8(ascii: ">") else {
            return nil
        }
        var index = nameEnd
        while index < bytes.count, bytes[index] != UInt8(ascii: "<"), bytes[index] != UInt8(ascii: "\n") {
            if bytes[index] == UInt8(ascii: ">") {
                guard bytes.isStandaloneASCII(at: index), bytes[index - 1] != UInt8(ascii: "/") else { return nil }
                return index
            }
            index += 1
        }
        return nil
    }

    /// The link for an autolink's text as Ink wrote it out (`&` may have become `&amp;`).
    private static func autolink(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let isURL = text.contains(UInt8(ascii: ":"))
        guard isURL || text.contains(UInt8(ascii: "@")),
            !text.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
        else {
            return nil
        }
        return Array("<a href=\"".utf8) + (isURL ? [] : Array("mailto:".utf8)) + text + Array("\">".utf8) + text + Array("</a>".utf8)
    }

    /// `literal` (lowercase ASCII) at `index`, in any case.
    private static func matches(_ bytes: [UInt8], at index: Int, _ literal: StaticString) -> Bool {
        guard index + literal.utf8CodeUnitCount <= bytes.count else { return false }
        return literal.withUTF8Buffer { literal in
            literal.indices.allSatisfy { offset in
                let byte = bytes[index + offset]
                return byte == literal[offset] || (byte.isASCIILetter && byte | 0x20 == literal[offset])
            }
        }
    }
}
