import HTTPTypes
import Registry
import WireHTTP1

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

    /// Every header a credential may come in: what a replayed answer's request must match.
    /// Cookie is among them because a browser session signs in the PyPI API's reads.
    static let headerNames = CredentialHeaders([HTTPField.Name.privateToken, .deployToken, .authorization, .cookie].map(\.canonicalName))

    static func credential(from headers: HTTPFields) throws(Failure) -> Credential? {
        if let token = headers[.privateToken] { return .anyToken(token) }
        if let token = headers[.deployToken] { return .deployToken(token) }
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw .malformed }
        let scheme = parts[0].lowercased()
        let value = parts[1].trimmingOptionalWhitespace()
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
