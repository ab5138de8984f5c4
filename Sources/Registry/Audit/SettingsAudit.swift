/// What a settings change shows in its audit event: each setting that changed, from and to, with
/// the secret setting's values hidden and any password inside a URL's user information hidden too
/// (an operator may write `https://user:password@host/simple`).
enum SettingsAudit {
    static let hidden = "[hidden]"

    static func changes(from old: [String: String], to new: [String: String?], secret: String) -> [String: (String, String)] {
        var changes: [String: (String, String)] = [:]
        for (name, value) in new {
            let before = old[name]
            guard before != value else { continue }
            if name == secret {
                changes[name] = (before == nil ? "" : Self.hidden, value == nil ? "" : Self.hidden)
            } else {
                changes[name] = (Self.redactingURLPassword(before ?? ""), Self.redactingURLPassword(value ?? ""))
            }
        }
        return changes
    }

    /// `scheme://user:secret@host...` with the secret hidden; any other text as it is.
    static func redactingURLPassword(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return text }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<schemeEnd.upperBound]) + userInfo[..<colon] + ":" + Self.hidden + String(rest[at...])
    }
}
