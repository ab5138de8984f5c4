/// Makes untrusted HTML (a README's Markdown rendered, with the raw HTML it may hold) safe to put
/// into a page. Nothing of the input is copied through: it is tokenized as a browser would tokenize
/// it, and only allowed elements and attributes are written out again, by us, with every text and
/// attribute value escaped, so no quirk of the input's markup survives into the output. The output is
/// always balanced. Linear time in the input, whatever the input.
public enum HTMLSanitizer {
    /// Open elements past this depth are dropped (their text stays).
    public static let maximumDepth = BalancedWriter.maximumDepth

    public static func sanitize(_ html: String) -> String {
        var writer = BalancedWriter()
        var skipping: SkippedElement?
        var tokenizer = HTMLTokenizer(html)
        while let token = tokenizer.next() {
            if skipping != nil {
                if skipping!.consume(token) { skipping = nil }
                continue
            }
            switch token {
            case .text(let text):
                writer.text(text)
            case .startTag(let tag):
                if let skipped = SkippedElement(startingWith: tag) {
                    skipping = skipped
                } else if tag.name == "img" {
                    // No resource is loaded from a README; the picture's words stand in for it.
                    writer.text(tag.value(of: "alt") ?? "")
                } else if let element = AllowedElement(named: tag.name) {
                    writer.start(element, attributes: ElementPolicy.attributes(of: tag))
                }
            case .endTag(let name):
                if let element = AllowedElement(named: name) { writer.end(element) }
            case .rawText, .comment:
                // Raw text belongs to a dropped element (script, style, …); comments are dropped.
                break
            }
        }
        return writer.finish()
    }
}

/// An element dropped with its content (`svg`, `math`, `object`, `template`): everything up to its
/// matching end tag, nested ones of the same name counted, or to the end of the input.
struct SkippedElement {
    private let name: String
    private var depth = 1

    init?(startingWith tag: HTMLStartTag) {
        guard ElementPolicy.droppedWithContent.contains(tag.name) else { return nil }
        // `<svg/>` and `<math/>` are empty (foreign elements honour the slash); `<object/>` is not.
        if tag.selfClosing, tag.name == "svg" || tag.name == "math" { return nil }
        name = tag.name
    }

    /// Takes the next token; true when it ended the element.
    mutating func consume(_ token: HTMLToken) -> Bool {
        switch token {
        case .startTag(let tag) where tag.name == name && !tag.selfClosing:
            depth += 1
        case .endTag(let endName) where endName == name:
            depth -= 1
        default:
            break
        }
        return depth == 0
    }
}
