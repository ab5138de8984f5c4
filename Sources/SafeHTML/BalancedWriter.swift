/// Writes allowed elements so that the output is always balanced: every element written open is
/// closed, in order, stray end tags are ignored, and what is still open at the end is closed. It
/// closes elements where a browser would close them implicitly (a `p` at the next block, an `li` at
/// the next `li`, a cell at the next cell), so the page's tree is the one this writer meant. Nesting
/// is capped: a start tag past the cap is dropped (its text stays), so hostile nesting cannot make a
/// deep tree. Each tag looks at no more than the cap's number of open elements: linear time.
struct BalancedWriter {
    static let maximumDepth = 64

    private var output: [UInt8] = []
    private var open: [AllowedElement] = []
    /// Start tags dropped for depth, by element, so their end tags are not taken for an outer one's.
    private var droppedForDepth: [AllowedElement: Int] = [:]

    mutating func text(_ text: String) {
        HTML.appendEscaped(text, to: &output)
    }

    mutating func start(_ element: AllowedElement, attributes: [HTMLAttribute]) {
        closeImplicitly(before: element)
        if element.isTablePart, !open.contains(.table) { return }
        if !element.isVoid, open.count >= Self.maximumDepth {
            droppedForDepth[element, default: 0] += 1
            return
        }
        output.append(UInt8(ascii: "<"))
        output.append(contentsOf: element.rawValue.utf8)
        for attribute in attributes {
            output.append(UInt8(ascii: " "))
            output.append(contentsOf: attribute.name.utf8)
            output.append(contentsOf: #"=""#.utf8)
            HTML.appendEscaped(attribute.value, to: &output)
            output.append(UInt8(ascii: "\""))
        }
        output.append(UInt8(ascii: ">"))
        if !element.isVoid { open.append(element) }
    }

    mutating func end(_ element: AllowedElement) {
        if let dropped = droppedForDepth[element], dropped > 0 {
            droppedForDepth[element] = dropped - 1
            return
        }
        let isTableElement = element.isTablePart || element == .table
        let index = indexOfOpen(element) { isTableElement ? $0 == .table : $0.isCellBoundary }
        if let index { close(from: index) }
    }

    /// Closes everything still open.
    mutating func finish() -> String {
        close(from: 0)
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: Implied end tags

    private mutating func closeImplicitly(before element: AllowedElement) {
        if element.closesParagraph, let index = indexOfOpen(.p, stoppingAt: \.isCellBoundary) {
            close(from: index)
        }
        if element.isHeading, let last = open.last, last.isHeading {
            close(from: open.count - 1)
        }
        switch element {
        case .li:
            closeListItem { $0 == .li }
        case .dd, .dt:
            closeListItem { $0 == .dd || $0 == .dt }
        case .a:
            if let index = indexOfOpen(.a, stoppingAt: \.isCellBoundary) { close(from: index) }
        case .tr:
            if let index = indexOfOpen(.tr, stoppingAt: { $0 == .table }) { close(from: index) }
        case .tbody, .thead, .tfoot:
            let index = open.lastIndex { $0 == .tbody || $0 == .thead || $0 == .tfoot || $0 == .table }
            if let index, open[index] != .table { close(from: index) }
        case .td, .th:
            if let index = open.lastIndex(where: { $0.isCell || $0 == .tr || $0 == .table }), open[index].isCell {
                close(from: index)
            }
        default:
            break
        }
    }

    private mutating func closeListItem(_ isItem: (AllowedElement) -> Bool) {
        for index in open.indices.reversed() {
            if isItem(open[index]) {
                close(from: index)
                return
            }
            if open[index].endsListItemSearch { return }
        }
    }

    /// The innermost open `element`, unless a boundary comes first.
    private func indexOfOpen(_ element: AllowedElement, stoppingAt isBoundary: (AllowedElement) -> Bool) -> Int? {
        for index in open.indices.reversed() {
            if open[index] == element { return index }
            if isBoundary(open[index]) { return nil }
        }
        return nil
    }

    /// Closes the open elements from `index` up, innermost first.
    private mutating func close(from index: Int) {
        while open.count > index {
            output.append(contentsOf: "</".utf8)
            output.append(contentsOf: open.removeLast().rawValue.utf8)
            output.append(UInt8(ascii: ">"))
        }
    }
}
