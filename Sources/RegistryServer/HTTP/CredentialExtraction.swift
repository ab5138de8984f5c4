import HTTPTypes
import Registry

extension HTTPField.Name {
    static let privateToken = Self("PRIVATE-TOKEN")!
    static let deployToken = Self("Deploy-Token")!
}

/// Reads the credential a client presents, in any of the ways GitLab accepts: Basic (the password is
/// the token; the username is not checked), `PRIVATE-TOKEN`, `Deploy-Token`, or Bearer.
enum CredentialExtraction {
    enum Failure: Error {
        /// An `Authorization` header we cannot read: treated as bad credentials.
        case malformed
    }

    /// Every header a credential may come in.
    static let headerNames: [HTTPField.Name] = [.privateToken, .deployToken, .authorization]

    static func credential(from headers: HTTPFields) throws(Failure) -> Credential? {
        if let token = headers[.privateToken] { return .anyToken(token) }
        if let token = headers[.deployToken] { return .deployToken(token) }
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw .malformed }
        let scheme = parts[0].lowercased(), value = parts[1].trimmingOptionalWhitespace()
        switch scheme {
        case "bearer":
            return .anyToken(String(value))
        case "basic":
            guard let decoded = Base64.decode(value), let text = String(validating: decoded, as: UTF8.self),
                  let colon = text.firstIndex(of: ":")
            else { throw .malformed }
            return .anyToken(String(text[text.index(after: colon)...]))
        default:
            throw .malformed
        }
    }
}

/// Standard base64 (RFC 4648), strict: what HTTP Basic carries.
enum Base64 {
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default:
                return nil
            }
            guard padding == 0 else { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard padding <= 2 else { return nil }
        return output
    }
}
