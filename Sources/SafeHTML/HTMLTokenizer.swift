/// One piece of an HTML document, as `HTMLTokenizer` reads it.
public enum HTMLToken: Equatable, Sendable {
    /// Text between tags, character references decoded.
    case text(String)
    case startTag(HTMLStartTag)
    /// An end tag's name, lowercased (attributes on an end tag mean nothing and are not kept).
    case endTag(String)
    /// The content of a raw-text element (`script`, `style`, `textarea`, `title`, `iframe`, `noscript`,
    /// `xmp`, `noembed`, `noframes`, `plaintext`) as written: markup in it is not markup.
    case rawText(String)
    /// A comment, doctype, CDATA section or processing instruction: nothing of it is kept.
    case comment
}

public struct HTMLStartTag: Equatable, Sendable {
    /// Lowercased.
    public var name: String
    /// In document order, the first of each name only (as browsers keep it); names lowercased, values
    /// with character references decoded.
    public var attributes: [HTMLAttribute]
    /// Written `<name/>`.
    public var selfClosing: Bool

    public init(name: String, attributes: [HTMLAttribute] = [], selfClosing: Bool = false) {
        self.name = name
        self.attributes = attributes
        self.selfClosing = selfClosing
    }

    public func value(of attribute: String) -> String? {
        attributes.first { $0.name == attribute }?.value
    }
}

public struct HTMLAttribute: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Reads any text as HTML tokens, the way a browser's tokenizer would in the body of a page, so that
/// the sanitiser sees the tags a browser would see. It never fails: what is not markup is text, and a
/// tag cut off by the end of the input is dropped (as browsers drop it). Every byte is looked at a
/// bounded number of times, so it runs in time linear in the input.
public struct HTMLTokenizer: Sequence, IteratorProtocol {
    private let bytes: [UInt8]
    private var position = 0
    /// Set after the start tag of a raw-text element: its content comes next, up to `</name`.
    private var rawTextElement: [UInt8]?

    public init(_ html: String) {
        bytes = Array(html.utf8)
    }

    /// The elements whose content a browser reads as plain text up to their end tag (with scripting
    /// on, as in any browser that could run an attack, `noscript` is one of them).
    static let rawTextElements: Set<String> = [
        "script", "style", "textarea", "title", "iframe", "noscript", "xmp", "noembed", "noframes", "plaintext",
    ]

    public mutating func next() -> HTMLToken? {
        if let element = rawTextElement {
            rawTextElement = nil
            return readRawText(endingWith: element)
        }
        while position < bytes.count {
            if bytes[position] == .lessThan, let token = readMarkup() {
                return token
            }
            if let text = readText() {
                return text
            }
        }
        return nil
    }

    // MARK: Text

    /// Text up to the next `<` that begins markup (a lone `<`, as in `a < b`, is text).
    private mutating func readText() -> HTMLToken? {
        let start = position
        var index = position
        if index < bytes.count, bytes[index] == .lessThan { index += 1 }
        while index < bytes.count {
            if bytes[index] == .lessThan, beginsMarkup(at: index) { break }
            index += 1
        }
        position = index
        guard index > start else { return nil }
        return .text(CharacterReferences.decode(bytes[start..<index]))
    }

    private func beginsMarkup(at index: Int) -> Bool {
        guard index + 1 < bytes.count else { return false }
        let next = bytes[index + 1]
        return next.isASCIILetter || next == .slash || next == .exclamationMark || next == .questionMark
    }

    // MARK: Markup

    /// The markup at `<`, or nil when it is text. A construct cut off by the end of the input is
    /// consumed and dropped: then the next token (or the end) comes in its place.
    private mutating func readMarkup() -> HTMLToken? {
        guard position + 1 < bytes.count else { return nil }
        let next = bytes[position + 1]
        if next.isASCIILetter {
            return readTag(at: position + 1, isEnd: false) ?? .comment
        }
        if next == .slash {
            guard position + 2 < bytes.count else { return nil }
            let afterSlash = bytes[position + 2]
            if afterSlash.isASCIILetter { return readTag(at: position + 2, isEnd: true) ?? .comment }
            if afterSlash == .greaterThan {
                position += 3
                return .comment
            }
            return readBogusComment(from: position + 2)
        }
        if next == .exclamationMark {
            if starts(with: "<!--", at: position) { return readComment() }
            return readBogusComment(from: position + 2)
        }
        if next == .questionMark { return readBogusComment(from: position + 1) }
        return nil
    }

    /// `<!-- … -->` (also ended by `--!>`; `<!-->` and `<!--->` are whole empty comments), or to the end.
    private mutating func readComment() -> HTMLToken {
        let contentStart = position + 4
        if starts(with: ">", at: contentStart) {
            position = contentStart + 1
            return .comment
        }
        if starts(with: "->", at: contentStart) {
            position = contentStart + 2
            return .comment
        }
        var index = contentStart
        while index < bytes.count {
            if bytes[index] == .hyphen, starts(with: "-->", at: index) {
                position = index + 3
                return .comment
            }
            if bytes[index] == .hyphen, starts(with: "--!>", at: index) {
                position = index + 4
                return .comment
            }
            index += 1
        }
        position = bytes.count
        return .comment
    }

    /// `<!…>`, `<?…>`, `</…>` not followed by a letter: a comment up to the first `>`, or to the end.
    private mutating func readBogusComment(from start: Int) -> HTMLToken {
        var index = start
        while index < bytes.count, bytes[index] != .greaterThan { index += 1 }
        position = Swift.min(index + 1, bytes.count)
        return .comment
    }

    /// A start or end tag whose name begins at `nameStart`; nil (and everything consumed) when the input
    /// ends inside it.
    private mutating func readTag(at nameStart: Int, isEnd: Bool) -> HTMLToken? {
        var index = nameStart
        while index < bytes.count, !bytes[index].isHTMLWhitespace, bytes[index] != .slash, bytes[index] != .greaterThan {
            index += 1
        }
        let name = Self.lowercasedName(bytes[nameStart..<index])
        var attributes: [HTMLAttribute] = []
        var names = Set<String>()
        var selfClosing = false
        while true {
            while index < bytes.count, bytes[index].isHTMLWhitespace || bytes[index] == .slash {
                selfClosing = bytes[index] == .slash && index + 1 < bytes.count && bytes[index + 1] == .greaterThan
                index += 1
            }
            guard index < bytes.count else {
                position = bytes.count
                return nil
            }
            if bytes[index] == .greaterThan {
                index += 1
                break
            }
            guard let (attribute, end) = readAttribute(at: index) else {
                position = bytes.count
                return nil
            }
            index = end
            if names.insert(attribute.name).inserted { attributes.append(attribute) }
        }
        position = index
        if isEnd { return .endTag(name) }
        if Self.rawTextElements.contains(name) { rawTextElement = Array(name.utf8) }
        return .startTag(HTMLStartTag(name: name, attributes: attributes, selfClosing: selfClosing))
    }

    /// One attribute: a name, and maybe `=` and a double-quoted, single-quoted or unquoted value.
    /// Nil when the input ends inside a quoted value.
    private func readAttribute(at start: Int) -> (HTMLAttribute, end: Int)? {
        var index = start
        // A first `=` belongs to the name, as in a browser.
        if bytes[index] == .equals { index += 1 }
        while index < bytes.count, !bytes[index].isHTMLWhitespace, bytes[index] != .slash, bytes[index] != .greaterThan,
            bytes[index] != .equals
        {
            index += 1
        }
        let name = Self.lowercasedName(bytes[start..<index])
        var afterName = index
        while afterName < bytes.count, bytes[afterName].isHTMLWhitespace { afterName += 1 }
        guard afterName < bytes.count, bytes[afterName] == .equals else {
            return (HTMLAttribute(name: name, value: ""), index)
        }
        index = afterName + 1
        while index < bytes.count, bytes[index].isHTMLWhitespace { index += 1 }
        guard index < bytes.count else { return (HTMLAttribute(name: name, value: ""), index) }
        let quote = bytes[index]
        if quote == .doubleQuote || quote == .singleQuote {
            let valueStart = index + 1
            guard let valueEnd = bytes[valueStart...].firstIndex(of: quote) else { return nil }
            let value = CharacterReferences.decode(bytes[valueStart..<valueEnd])
            return (HTMLAttribute(name: name, value: value), valueEnd + 1)
        }
        let valueStart = index
        while index < bytes.count, !bytes[index].isHTMLWhitespace, bytes[index] != .greaterThan { index += 1 }
        return (HTMLAttribute(name: name, value: CharacterReferences.decode(bytes[valueStart..<index])), index)
    }

    /// The content of a raw-text element up to `</name` followed by whitespace, `/` or `>` (any case),
    /// or to the end when that never comes. `plaintext` has no end.
    private mutating func readRawText(endingWith element: [UInt8]) -> HTMLToken {
        let start = position
        var index = position
        var end = bytes.count
        if element != Array("plaintext".utf8) {
            while index + 1 < bytes.count {
                if bytes[index] == .lessThan, bytes[index + 1] == .slash, closesRawText(element, at: index + 2) {
                    end = index
                    break
                }
                index += 1
            }
        }
        position = end
        return .rawText(String(decoding: bytes[start..<end], as: UTF8.self))
    }

    private func closesRawText(_ element: [UInt8], at start: Int) -> Bool {
        let end = start + element.count
        guard end <= bytes.count else { return false }
        for offset in 0..<element.count where bytes[start + offset] | 0x20 != element[offset] {
            return false
        }
        return end == bytes.count || bytes[end].isHTMLWhitespace || bytes[end] == .slash || bytes[end] == .greaterThan
    }

    private func starts(with prefix: StaticString, at index: Int) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return prefix.withUTF8Buffer { prefix in
            (0..<count).allSatisfy { bytes[index + $0] == prefix[$0] }
        }
    }

    private static func lowercasedName(_ bytes: ArraySlice<UInt8>) -> String {
        var name = String(decoding: bytes.map { $0.isASCIIUppercase ? $0 | 0x20 : $0 }, as: UTF8.self)
        if name.utf8.contains(0) { name = name.replacingNULs() }
        return name
    }
}

extension String {
    fileprivate func replacingNULs() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\0" ? "\u{FFFD}" : $0 }))
    }
}

extension UInt8 {
    static let lessThan = UInt8(ascii: "<")
    static let greaterThan = UInt8(ascii: ">")
    static let slash = UInt8(ascii: "/")
    static let exclamationMark = UInt8(ascii: "!")
    static let questionMark = UInt8(ascii: "?")
    static let hyphen = UInt8(ascii: "-")
    static let equals = UInt8(ascii: "=")
    static let doubleQuote = UInt8(ascii: "\"")
    static let singleQuote = UInt8(ascii: "'")

    var isASCIILetter: Bool { (self | 0x20) >= UInt8(ascii: "a") && (self | 0x20) <= UInt8(ascii: "z") }
    var isASCIIUppercase: Bool { self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") }
    /// HTML's whitespace: tab, line feed, form feed, carriage return, space.
    var isHTMLWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0C || self == 0x0D }
}
