/// Whether Ink may be given a Markdown text: Ink's parser backtracks, so some short inputs cost it
/// far more than their length (measured in release builds: 20 bytes of `[` took 7.6 s, twice as long
/// for each `[` more, and 100,000 of them overflow the stack; 8 KiB of `&` or `<` took 8–9 s, each
/// four times longer at twice the size; and `<p` with no `>` after it never ends: Ink's paragraph
/// stops before `<p` and its HTML reader fails on it, forever, with memory growing). Brackets are
/// taken care of by `LinkBrackets` before this check; this check runs in linear time and refuses
/// the rest of what could make Ink slow, and a refused text is shown as plain text instead. It is
/// conservative: it bounds the scans Ink makes from the characters that start them, so it may refuse
/// an odd README Ink would have managed, but never passes one of the patterns above.
enum InkBudget {
    /// Ink needs about 0.4 µs a byte for plain prose in a release build (5 µs in a debug build), and
    /// up to 2 µs for dense emphasis: past this size a README is shown as plain text.
    static let maximumBytes = 128 * 1024
    /// How far a list item may be indented: Ink recurses once per deeper indentation.
    static let maximumListIndentation = 64
    /// The scanning Ink may do beyond reading each byte once, in bytes: for each `&`, `<` and `` ` ``,
    /// the distance to where Ink's scan from it stops, summed. (Each `[` left by `LinkBrackets` begins
    /// a link Ink reads at once.)
    static func maximumScanCost(forBytes count: Int) -> Int { 2 * count + 64 * 1024 }

    /// Whether Ink may be given `markdown`, a README of `byteCount` bytes after `LinkBrackets.hide`
    /// (which makes it longer, not slower: a stand-in is one character to Ink, as `[` is).
    static func allows(_ markdown: String, readmeBytes byteCount: Int) -> Bool {
        guard byteCount <= maximumBytes else { return false }
        let bytes = Array(markdown.utf8)
        return paragraphTagsEnd(bytes) && listsAreShallow(bytes)
            && scanCost(bytes) <= maximumScanCost(forBytes: bytes.count)
    }

    /// Every `<p` (any case: `<p`, `<pre`, `<P x`) has a `>` somewhere after it.
    static func paragraphTagsEnd(_ bytes: [UInt8]) -> Bool {
        guard let lastGreaterThan = bytes.indices.last(where: { bytes[$0] == UInt8(ascii: ">") && bytes.isStandaloneASCII(at: $0) })
        else {
            return !containsParagraphTag(bytes[...])
        }
        return !containsParagraphTag(bytes[(lastGreaterThan + 1)...])
    }

    private static func containsParagraphTag(_ bytes: ArraySlice<UInt8>) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if previous == UInt8(ascii: "<"), byte | 0x20 == UInt8(ascii: "p") { return true }
            previous = byte
        }
        return false
    }

    /// No line that could be a list item (`-`, `*`, `+` or a digit after its indentation) is indented
    /// past `maximumListIndentation` columns.
    static func listsAreShallow(_ bytes: [UInt8]) -> Bool {
        var indentation = 0
        var atLineStart = true
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                indentation = 0
                atLineStart = true
            } else if atLineStart, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                indentation += byte == UInt8(ascii: "\t") ? 4 : 1
            } else if atLineStart {
                atLineStart = false
                let startsItem =
                    byte == UInt8(ascii: "-") || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "+")
                    || (0x30...0x39).contains(byte)
                if startsItem, indentation > maximumListIndentation { return false }
            }
        }
        return true
    }

    /// For each character that makes Ink scan ahead, how far it scans at most: `&` to a `;`, a space
    /// or a line end (an entity); `<` to the next `>` (an HTML tag, across lines); `` ` `` to the next
    /// `` ` `` or line end (inline code). Computed from the end backwards.
    static func scanCost(_ bytes: [UInt8]) -> Int {
        let end = bytes.count
        var nextGreaterThan = end
        var nextEntityStop = end
        var nextCodeStop = end
        var cost = 0
        for index in stride(from: end - 1, through: 0, by: -1) {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                nextEntityStop = index
                nextCodeStop = index
            // A terminator counts only when Ink sees it as a character of its own (not joined to a
            // combining mark after it or a prepended mark before it): Ink reads characters.
            case UInt8(ascii: ">") where bytes.isStandaloneASCII(at: index):
                nextGreaterThan = index
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                if bytes.isStandaloneASCII(at: index) { nextEntityStop = index }
            case UInt8(ascii: "&"):
                cost += nextEntityStop - index
            case UInt8(ascii: "<"):
                cost += nextGreaterThan - index
            case UInt8(ascii: "`"):
                cost += nextCodeStop - index
                if bytes.isStandaloneASCII(at: index) { nextCodeStop = index }
            default:
                break
            }
        }
        return cost
    }
}
