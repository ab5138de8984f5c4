/// Text made safe to put into HTML, as element content or as a quoted attribute value: the five
/// characters that can end either (`&`, `<`, `>`, `"`, `'`) become character references.
public enum HTML {
    public static func escape(_ text: some StringProtocol) -> String {
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count)
        appendEscaped(text, to: &escaped)
        return String(decoding: escaped, as: UTF8.self)
    }

    /// `escape`, written straight into a UTF-8 buffer (the sanitiser builds its output so). The five
    /// characters are ASCII, so escaping byte by byte leaves every other character's bytes whole.
    static func appendEscaped(_ text: some StringProtocol, to output: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): output.append(contentsOf: ampersand)
            case UInt8(ascii: "<"): output.append(contentsOf: lessThan)
            case UInt8(ascii: ">"): output.append(contentsOf: greaterThan)
            case UInt8(ascii: "\""): output.append(contentsOf: quotationMark)
            case UInt8(ascii: "'"): output.append(contentsOf: apostrophe)
            default: output.append(byte)
            }
        }
    }

    private static let ampersand = Array("&amp;".utf8)
    private static let lessThan = Array("&lt;".utf8)
    private static let greaterThan = Array("&gt;".utf8)
    private static let quotationMark = Array("&quot;".utf8)
    private static let apostrophe = Array("&#39;".utf8)
}
