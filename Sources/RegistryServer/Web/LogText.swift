/// Text from a client made safe for one log line: control characters (a newline would start a
/// forged line) become `\u{..}` escapes, and it is cut at 512 characters.
enum LogText {
    static func sanitised(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(512) {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}" {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
