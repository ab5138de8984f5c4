/// Writes allowed elements so that the output is always balanced: every element written open is
/// closed, in order, stray end tags are ignored, and what is still open at the end is closed. It
/// closes elements where a browser would close them implicitly (a `p` at the next block, an `li` at
/// the next `li`, a cell at the next cell), so the page's tree is the one this writer meant. Nesting
/// is capped: a start tag past the cap is dropped (its text stays), so hostile nesting cannot make a
/// deep tree. Each tag looks at no more than the cap's number of open elements: linear time.
struct BalancedWriter {
    static let maximumDepth = 64

    private(set) var output = ""
    private var open: [String] = []
    /// Start tags dropped for depth, by name, so their end tags are not taken for an outer element's.
    private var droppedForDepth: [String: Int] = [:]

    mutating func text(_ text: String) {
        output += HTML.escape(text)
    }

    mutating func start(_ name: String, attributes: [HTMLAttribute]) {
        closeImplicitly(before: name)
        if Self.tableParts.contains(name), !open.contains("table") { return }
        let isVoid = ElementPolicy.voidElements.contains(name)
        if !isVoid, open.count >= Self.maximumDepth {
            droppedForDepth[name, default: 0] += 1
            return
        }
        output += "<" + name
        for attribute in attributes {
            output += " " + attribute.name + "=\"" + HTML.escape(attribute.value) + "\""
        }
        output += ">"
        if !isVoid { open.append(name) }
    }

    mutating func end(_ name: String) {
        if let dropped = droppedForDepth[name], dropped > 0 {
            droppedForDepth[name] = dropped - 1
            return
        }
        let boundaries = Self.tableParts.contains(name) || name == "table" ? Self.tableScope : Self.cellScope
        if let index = indexOfOpen(name, stoppingAt: boundaries) { close(from: index) }
    }

    /// Closes everything still open.
    mutating func finish() -> String {
        close(from: 0)
        return output
    }

    // MARK: Implied end tags

    private static let blocks: Set<String> = [
        "blockquote", "details", "div", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre",
        "summary", "table", "ul",
    ]
    private static let headings: Set<String> = ["h1", "h2", "h3", "h4", "h5", "h6"]
    private static let tableParts: Set<String> = ["tbody", "thead", "tfoot", "tr", "td", "th"]
    private static let cellScope: Set<String> = ["table", "td", "th"]
    private static let tableScope: Set<String> = ["table"]
    /// HTML's "special" elements that end the search for an open `li` (or `dd`, `dt`) to close.
    private static let listItemBoundaries: Set<String> = [
        "blockquote", "dd", "details", "dl", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ol", "pre",
        "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    ]

    private mutating func closeImplicitly(before name: String) {
        if Self.blocks.contains(name), let index = indexOfOpen("p", stoppingAt: Self.cellScope) {
            close(from: index)
        }
        if Self.headings.contains(name), let last = open.last, Self.headings.contains(last) {
            close(from: open.count - 1)
        }
        switch name {
        case "li":
            closeListItem(named: ["li"])
        case "dd", "dt":
            closeListItem(named: ["dd", "dt"])
        case "a":
            if let index = indexOfOpen("a", stoppingAt: Self.cellScope) { close(from: index) }
        case "tr", "tbody", "thead", "tfoot":
            let closes: Set<String> = name == "tr" ? ["tr"] : ["tbody", "thead", "tfoot"]
            if let index = open.lastIndex(where: { closes.contains($0) || $0 == "table" }), open[index] != "table" {
                close(from: index)
            }
        case "td", "th":
            if let index = open.lastIndex(where: { ["td", "th", "tr", "table"].contains($0) }),
                ["td", "th"].contains(open[index])
            {
                close(from: index)
            }
        default:
            break
        }
    }

    private mutating func closeListItem(named names: Set<String>) {
        for index in open.indices.reversed() {
            if names.contains(open[index]) {
                close(from: index)
                return
            }
            if Self.listItemBoundaries.contains(open[index]) { return }
        }
    }

    private func indexOfOpen(_ name: String, stoppingAt boundaries: Set<String>) -> Int? {
        for index in open.indices.reversed() {
            if open[index] == name { return index }
            if boundaries.contains(open[index]) { return nil }
        }
        return nil
    }

    /// Closes the open elements from `index` up, innermost first.
    private mutating func close(from index: Int) {
        while open.count > index {
            output += "</" + open.removeLast() + ">"
        }
    }
}
