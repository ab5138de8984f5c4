/// Renders untrusted input for inclusion in an error message that may be sent to a client
/// or written to a log.
///
/// The result is single-quoted, printable ASCII only: control characters, quotes, backslashes
/// and non-ASCII scalars are escaped as `\u{…}`, and input longer than `limit` scalars is cut
/// with a trailing `…`. A hostile value can therefore neither forge log lines nor smuggle
/// terminal escapes into a response.
func quotedForMessage(_ input: some StringProtocol, limit: Int = 80) -> String {
    var result = "'"
    var emitted = 0
    for scalar in input.unicodeScalars {
        if emitted == limit {
            result += "…"
            break
        }
        result += escapedForMessage(scalar)
        emitted += 1
    }
    result += "'"
    return result
}

/// One scalar as `quotedForMessage` renders it, without surrounding quotes.
func escapedForMessage(_ scalar: Unicode.Scalar) -> String {
    switch scalar.value {
    case 0x20...0x7E where scalar != "'" && scalar != "\\":
        return String(Character(scalar))
    default:
        return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
    }
}
