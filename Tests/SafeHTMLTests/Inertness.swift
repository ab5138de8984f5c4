import Testing

@testable import SafeHTML

/// What every sanitised fragment must be, checked by reading it back with the tokenizer: only
/// allowed elements, only their allowed attributes (no `on…`, no `style`), hrefs with a safe scheme,
/// no comments or raw text, and every element closed in order.
enum Inertness {
    static let allowedAttributes: [String: Set<String>] = [
        "a": ["href", "title", "rel"], "abbr": ["title"], "td": ["align", "colspan", "rowspan"],
        "th": ["align", "colspan", "rowspan"], "ol": ["start"], "code": ["class"], "pre": ["class"],
        "span": ["class"],
    ]

    /// The problems found in `html`; empty when it is inert and balanced.
    static func problems(in html: String) -> [String] {
        var problems: [String] = []
        var open: [String] = []
        let lowercased = html.lowercased()
        if lowercased.contains("<script") { problems.append("contains <script") }
        if lowercased.contains("<!--") { problems.append("contains a comment") }
        for token in HTMLTokenizer(html) {
            switch token {
            case .startTag(let tag):
                guard ElementPolicy.allowedElements.contains(tag.name) else {
                    problems.append("element <\(tag.name)>")
                    continue
                }
                for attribute in tag.attributes {
                    // The renderer's own notes and plain-text blocks carry a `readme-…` class.
                    let isRendererClass =
                        ["p", "pre"].contains(tag.name) && attribute.name == "class" && attribute.value.hasPrefix("readme-")
                    if !(allowedAttributes[tag.name] ?? []).contains(attribute.name), !isRendererClass {
                        problems.append("attribute \(attribute.name) on <\(tag.name)>")
                    }
                    if attribute.name.hasPrefix("on") { problems.append("event attribute \(attribute.name)") }
                }
                if tag.name == "a" {
                    if tag.value(of: "rel") != "nofollow noopener" { problems.append("a without rel") }
                    if let href = tag.value(of: "href") {
                        if LinkPolicy.safeHref(href) != href { problems.append("unsafe href \(href)") }
                        if href.lowercased().contains("javascript:") { problems.append("javascript: href") }
                    }
                }
                if tag.selfClosing { problems.append("self-closing <\(tag.name)/>") }
                if !ElementPolicy.voidElements.contains(tag.name) { open.append(tag.name) }
            case .endTag(let name):
                if open.last == name {
                    open.removeLast()
                } else {
                    problems.append("unbalanced </\(name)> with \(open.last ?? "nothing") open")
                }
            case .comment:
                problems.append("comment or doctype")
            case .rawText:
                problems.append("raw text")
            case .text:
                break
            }
        }
        if !open.isEmpty { problems.append("left open: \(open)") }
        return problems
    }

    /// The deepest nesting in `html` (which must be balanced).
    static func depth(of html: String) -> Int {
        var depth = 0
        var deepest = 0
        for token in HTMLTokenizer(html) {
            switch token {
            case .startTag(let tag) where !ElementPolicy.voidElements.contains(tag.name):
                depth += 1
                deepest = max(deepest, depth)
            case .endTag:
                depth -= 1
            default:
                break
            }
        }
        return deepest
    }
}
