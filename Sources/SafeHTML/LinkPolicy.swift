/// Which link targets a README may have: a browser follows `javascript:`, `data:` and `vbscript:`
/// URLs by running or showing what they hold, so only the schemes that fetch a page or open a mail
/// program pass (`http:`, `https:`, `mailto:`), and links with no scheme (relative paths, fragments,
/// queries), which stay on this server or the one named.
enum LinkPolicy {
    static let allowedSchemes: Set<String> = ["http", "https", "mailto"]

    /// The href to write (leading and trailing spaces and controls trimmed, as a browser trims them),
    /// or nil when the link must lose its target. `value` has its character references decoded already.
    static func safeHref(_ value: String) -> String? {
        let utf8 = value.utf8
        // The URL standard strips C0 controls and spaces from both ends.
        guard let first = utf8.firstIndex(where: { $0 > 0x20 }), let last = utf8.lastIndex(where: { $0 > 0x20 }) else {
            return ""
        }
        // The last byte over 0x20 ends a character: what follows it is ASCII.
        let trimmed = utf8[first...last]
        // A browser removes tabs and newlines anywhere in a URL (`java\tscript:` is `javascript:`), and
        // other controls have no place in a link: any of them, and the link goes.
        guard !containsControl(trimmed) else { return nil }
        let delimiter = trimmed.firstIndex {
            $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
        }
        if let delimiter, trimmed[delimiter] == UInt8(ascii: ":") {
            let scheme = String(decoding: trimmed[..<delimiter], as: UTF8.self).lowercased()
            guard allowedSchemes.contains(scheme) else { return nil }
        }
        return String(decoding: trimmed, as: UTF8.self)
    }

    /// C0 controls, DEL, and the C1 controls U+0080…U+009F (which no URL needs, and which some
    /// parsers drop), the last as UTF-8: 0xC2 then 0x80…0x9F.
    private static func containsControl(_ bytes: Substring.UTF8View.SubSequence) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && (0x80...0x9F).contains(byte)) { return true }
            previous = byte
        }
        return false
    }
}
