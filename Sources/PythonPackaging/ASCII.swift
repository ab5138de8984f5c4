/// Byte classification for the ASCII grammars of names, versions and file names.
enum ASCII {
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- UInt8(ascii: "a") < 26
    }

    static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || isLetter(byte)
    }

    /// `-`, `_` or `.`: the separators PEP 503 folds in names and PEP 440 accepts in versions.
    static func isNameSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    /// The byte lowercased if it is an ASCII capital letter, unchanged otherwise.
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }
}
