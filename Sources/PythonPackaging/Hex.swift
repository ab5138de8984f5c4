/// Lowercase hexadecimal encoding of bytes, as used for digests in the Simple API and in
/// upload forms.
public enum Hex {
    /// The bytes as lowercase hexadecimal, two digits per byte.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            utf8.append(Self.digit(byte >> 4))
            utf8.append(Self.digit(byte & 0x0F))
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The bytes that `string` spells in hexadecimal, digits in either case; `nil` if the
    /// length is odd or a character is not a hexadecimal digit.
    public static func decode(_ string: some StringProtocol) -> [UInt8]? {
        let utf8 = string.utf8
        guard utf8.count.isMultiple(of: 2) else {
            return nil
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var high: UInt8?
        for character in utf8 {
            guard let value = Self.value(of: character) else {
                return nil
            }
            if let pendingHigh = high {
                bytes.append(pendingHigh << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
