/// The percent-encoding Signature Version 4 prescribes (AWS's `UriEncode`): every byte except the
/// unreserved characters `A-Z a-z 0-9 - _ . ~` becomes `%XY` with uppercase hex.
public enum SigV4Encoding {
    /// Encodes one query name or value, or one path segment (`/` is encoded too).
    public static func encode(_ text: String) -> String {
        Self.encode(text, keepingSlash: false)
    }

    /// Encodes a path, keeping its `/` separators: an S3 object key `a b/c` is `/bucket/a%20b/c`.
    public static func encodePath(_ path: String) -> String {
        Self.encode(path, keepingSlash: true)
    }

    /// The canonical query string: names and values encoded, sorted by name then value, joined by `&`.
    /// A client sends exactly this, so that the server sees the query that was signed.
    public static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        items.map { (name: Self.encode($0.name), value: Self.encode($0.value)) }
            .sorted { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func encode(_ text: String, keepingSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(Self.hexDigits[Int(byte >> 4)])
                out.append(Self.hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
