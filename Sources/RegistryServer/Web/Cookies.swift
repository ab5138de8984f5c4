import Hummingbird

/// The cookies the web interface reads and sets. A session cookie (no Max-Age): the server's own
/// expiry is what counts, and a closed browser forgets it.
struct Cookies {
    static let session = "_wheelhouse_session"
    static let formToken = "_wheelhouse_csrf"

    /// The value of the cookie `name` in the request's `Cookie` headers, if any (first wins).
    static func value(_ name: String, in headers: HTTPFields) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
            }
        }
        return nil
    }

    static func set(_ name: String, _ value: String, secure: Bool) -> String {
        "\(name)=\(value); Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    static func clear(_ name: String, secure: Bool) -> String {
        "\(name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }
}
