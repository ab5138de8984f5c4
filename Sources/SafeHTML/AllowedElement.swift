/// An element the sanitiser writes out again. Names are looked up once per tag; everything the
/// writer asks of an element after that (void? a block? a table part?) is a switch, not a lookup.
enum AllowedElement: String, CaseIterable {
    case a, abbr, b, blockquote, br, code, dd, del, details, div, dl, dt, em
    case h1, h2, h3, h4, h5, h6, hr, i, kbd, li, ol, p, pre, q, s, samp
    case span, strong, sub, summary, sup, table, tbody, td, tfoot, th, thead, tr, tt, ul

    private static let byName: [String: AllowedElement] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) }
    )

    init?(named name: String) {
        guard let element = Self.byName[name] else { return nil }
        self = element
    }

    /// No content and no end tag.
    var isVoid: Bool { self == .br || self == .hr }

    var isHeading: Bool {
        switch self {
        case .h1, .h2, .h3, .h4, .h5, .h6: return true
        default: return false
        }
    }

    /// Starts a block that ends an open `p`, as in a browser.
    var closesParagraph: Bool {
        switch self {
        case .blockquote, .details, .div, .dl, .h1, .h2, .h3, .h4, .h5, .h6, .hr, .ol, .p, .pre, .summary, .table, .ul:
            return true
        default:
            return false
        }
    }

    /// Belongs inside a `table`, and is dropped outside one (as a browser drops it).
    var isTablePart: Bool {
        switch self {
        case .tbody, .thead, .tfoot, .tr, .td, .th: return true
        default: return false
        }
    }

    var isCell: Bool { self == .td || self == .th }

    /// Where the search for an open element to close stops: outside a cell or table, an end tag
    /// does not reach in, and one inside does not reach out.
    var isCellBoundary: Bool { self == .table || isCell }

    /// HTML's "special" elements that end the search for an open `li` (or `dd`, `dt`) to close.
    var endsListItemSearch: Bool {
        switch self {
        case .blockquote, .dd, .details, .dl, .dt, .h1, .h2, .h3, .h4, .h5, .h6, .li, .ol, .pre, .summary, .table,
            .tbody, .td, .tfoot, .th, .thead, .tr, .ul:
            return true
        default:
            return false
        }
    }
}
