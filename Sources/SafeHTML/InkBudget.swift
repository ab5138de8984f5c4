/// Whether Ink may be given a Markdown text: Ink's parser backtracks, so some short inputs cost it
/// far more than their length (measured in release builds: 20 bytes of `[` took 7.6 s, twice as long
/// for each `[` more, and 100,000 of them overflow the stack; 8 KiB of `&` or `<` took 8–9 s, each
/// four times longer at twice the size; and `<p` with no `>` after it never ends: Ink's paragraph
/// stops before `<p` and its HTML reader fails on it, forever, with memory growing). This check runs in linear time and refuses what could
/// make Ink slow; a refused text is shown as plain text instead. It is conservative: it bounds the
/// scans Ink makes from the characters that start them, so it may refuse an odd README Ink would
/// have managed, but never passes one of the patterns above.
enum InkBudget {
    /// Ink needs about 0.4 µs a byte for plain prose in a release build (5 µs in a debug build), and
    /// up to 2 µs for dense emphasis: past this size a README is shown as plain text.
    static let maximumBytes = 128 * 1024
    /// How deeply `[` may nest (unclosed ones count) within a paragraph: Ink's work doubles with
    /// each level.
    static let maximumBracketDepth = 4
    /// How far a list item may be indented: Ink recurses once per deeper indentation.
    static let maximumListIndentation = 64
    /// The scanning Ink may do beyond reading each byte once, in bytes: for each `&`, `<`, `` ` ``
    /// and `[`, the distance to where Ink's scan from it stops, summed.
    static func maximumScanCost(forBytes count: Int) -> Int { 2 * count + 64 * 1024 }

    static func allows(_ markdown: String) -> Bool {
        let bytes = Array(markdown.utf8)
        guard bytes.count <= maximumBytes else { return false }
        return paragraphTagsEnd(bytes) && bracketsAreShallow(bytes) && listsAreShallow(bytes)
            && scanCost(bytes) <= maximumScanCost(forBytes: bytes.count)
    }

    /// Every `<p` (any case: `<p`, `<pre`, `<P x`) has a `>` somewhere after it.
    private static func paragraphTagsEnd(_ bytes: [UInt8]) -> Bool {
        guard let lastGreaterThan = bytes.lastIndex(of: UInt8(ascii: ">")) else {
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

    /// `[` minus `]`, never below zero, reset at an empty line (where Ink's inline parsing ends).
    private static func bracketsAreShallow(_ bytes: [UInt8]) -> Bool {
        var depth = 0
        var previous: UInt8 = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "["):
                depth += 1
                if depth > maximumBracketDepth { return false }
            case UInt8(ascii: "]"):
                depth = Swift.max(0, depth - 1)
            case UInt8(ascii: "\n") where previous == UInt8(ascii: "\n"):
                depth = 0
            default:
                break
            }
            previous = byte
        }
        return true
    }

    /// No line that could be a list item (`-`, `*`, `+` or a digit after its indentation) is indented
    /// past `maximumListIndentation` columns.
    private static func listsAreShallow(_ bytes: [UInt8]) -> Bool {
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
    /// `` ` `` or line end (inline code); `[` to the next `]` or empty line (a link's text) plus the
    /// rest of that line (its URL or reference). Computed from the end backwards.
    private static func scanCost(_ bytes: [UInt8]) -> Int {
        let end = bytes.count
        // Where the line holding each byte ends, for the URL after a link's text.
        var lineEnds = [Int](repeating: end, count: end)
        var lineEnd = end
        for index in stride(from: end - 1, through: 0, by: -1) {
            if bytes[index] == UInt8(ascii: "\n") { lineEnd = index }
            lineEnds[index] = lineEnd
        }
        var nextGreaterThan = end
        var nextEntityStop = end
        var nextCodeStop = end
        var nextClosingBracket = end
        var nextEmptyLine = end
        var cost = 0
        for index in stride(from: end - 1, through: 0, by: -1) {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                if index + 1 < end, bytes[index + 1] == UInt8(ascii: "\n") { nextEmptyLine = index }
                nextEntityStop = index
                nextCodeStop = index
            case UInt8(ascii: ">"):
                nextGreaterThan = index
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                nextEntityStop = index
            case UInt8(ascii: "]"):
                nextClosingBracket = index
            case UInt8(ascii: "&"):
                cost += nextEntityStop - index
            case UInt8(ascii: "<"):
                cost += nextGreaterThan - index
            case UInt8(ascii: "`"):
                cost += nextCodeStop - index
                nextCodeStop = index
            case UInt8(ascii: "["):
                let textEnd = Swift.min(nextClosingBracket, nextEmptyLine)
                cost += textEnd - index + (textEnd < end ? lineEnds[textEnd] - textEnd : 0)
            default:
                break
            }
        }
        return cost
    }
}
