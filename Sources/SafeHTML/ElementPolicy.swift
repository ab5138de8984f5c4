/// What may stay of an element in a README: the tags of prose, lists, tables and code, with only the
/// attributes that change how they read (a link's target and title, a cell's alignment and span, a
/// list's start, a code block's language). Nothing here can run a script, load a resource, submit a
/// form or restyle the page.
enum ElementPolicy {
    /// Elements written out again, with their allowed attributes.
    static let allowedElements = Set(AllowedElement.allCases.map(\.rawValue))

    /// Allowed elements that have no content and no end tag.
    static let voidElements = Set(AllowedElement.allCases.filter(\.isVoid).map(\.rawValue))

    /// Elements dropped together with everything in them: what they hold is code, a resource, or
    /// markup of another language (SVG, MathML) that a browser parses by other rules. The raw-text
    /// ones (`HTMLTokenizer.rawTextElements`) are dropped with their content as well.
    static let droppedWithContent: Set<String> = ["object", "template", "svg", "math"]

    /// The element's attributes that may stay, checked and normalised, in a fixed order; `a` gets
    /// `rel="nofollow noopener"` whatever it had (a README's links are not endorsed, and the page they
    /// open gets no handle on this one).
    static func attributes(of tag: HTMLStartTag) -> [HTMLAttribute] {
        var kept: [HTMLAttribute] = []
        func keep(_ name: String, _ check: (String) -> String?) {
            if let value = tag.value(of: name), let checked = check(value) {
                kept.append(HTMLAttribute(name: name, value: checked))
            }
        }
        switch tag.name {
        case "a":
            keep("href", LinkPolicy.safeHref)
            keep("title") { $0 }
            kept.append(HTMLAttribute(name: "rel", value: "nofollow noopener"))
        case "abbr":
            keep("title") { $0 }
        case "td", "th":
            keep("align", alignment)
            keep("colspan") { span($0, maximum: 1000) }
            keep("rowspan") { span($0, maximum: 65534) }
        case "ol":
            keep("start", listStart)
        case "code", "pre", "span":
            keep("class", languageClass)
        default:
            break
        }
        return kept
    }

    private static func alignment(_ value: String) -> String? {
        let value = value.lowercased()
        return ["left", "center", "right", "justify"].contains(value) ? value : nil
    }

    private static func span(_ value: String, maximum: Int) -> String? {
        guard value.utf8.count <= 5, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(value),
            (1...maximum).contains(number)
        else {
            return nil
        }
        return String(number)
    }

    private static func listStart(_ value: String) -> String? {
        let digits = value.hasPrefix("-") ? value.dropFirst() : Substring(value)
        guard (1...9).contains(digits.utf8.count), digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let number = Int(value)
        else {
            return nil
        }
        return String(number)
    }

    /// `language-NAME` (one class, lowercased), the class Markdown renderers give a fenced code block.
    private static func languageClass(_ value: String) -> String? {
        let value = value.lowercased()
        let prefix = "language-"
        guard value.hasPrefix(prefix), value.utf8.count > prefix.utf8.count, value.utf8.count <= 64 else { return nil }
        let allowed = { (byte: UInt8) in
            (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "-")
        }
        return value.utf8.dropFirst(prefix.utf8.count).allSatisfy(allowed) ? value : nil
    }
}
