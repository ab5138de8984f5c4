/// Which link targets a README may have: a browser follows `javascript:`, `data:` and `vbscript:`
/// URLs by running or showing what they hold, so only the schemes that fetch a page or open a mail
/// program pass (`http:`, `https:`, `mailto:`), and links with no scheme (relative paths, fragments,
/// queries), which stay on this server or the one named.
enum LinkPolicy {
    static let allowedSchemes: Set<String> = ["http", "https", "mailto"]

    /// The href to write (leading and trailing spaces and controls trimmed, as a browser trims them),
    /// or nil when the link must lose its target. `value` has its character references decoded already.
    static func safeHref(_ value: String) -> String? {
        let trimmed = trimmingSpacesAndControls(value)
        // A browser removes tabs and newlines anywhere in a URL (`java\tscript:` is `javascript:`), and
        // other controls have no place in a link: any of them, and the link goes.
        guard !trimmed.unicodeScalars.contains(where: isControl) else { return nil }
        guard let delimiter = trimmed.unicodeScalars.firstIndex(where: { ":/?#".unicodeScalars.contains($0) }),
            trimmed.unicodeScalars[delimiter] == ":"
        else {
            return trimmed
        }
        let scheme = String(trimmed.unicodeScalars[..<delimiter]).lowercased()
        return allowedSchemes.contains(scheme) ? trimmed : nil
    }

    /// C0 controls, DEL, and the C1 controls (which no URL needs, and which some parsers drop).
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// What the URL standard strips from both ends: C0 controls and space.
    private static func trimmingSpacesAndControls(_ value: String) -> String {
        let scalars = value.unicodeScalars
        let isTrimmed = { (scalar: Unicode.Scalar) in scalar.value <= 0x20 }
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
            let last = scalars.lastIndex(where: { !isTrimmed($0) })
        else {
            return ""
        }
        return String(scalars[first...last])
    }
}
