/// Who is calling: nobody, a user through a personal access token, or a deploy token.
public enum Principal: Sendable, Equatable {
    case anonymous
    case user(User, scopes: Set<TokenScope>)
    case deployToken(DeployToken)

    public var isAnonymous: Bool { self == .anonymous }

    /// Identifies the caller and what their token allows, for caching decisions about them.
    var cacheKey: String {
        switch self {
        case .anonymous: "a"
        case .user(let user, let scopes): "u\(user.id):\(user.isAdmin):\(scopes.stored)"
        case .deployToken(let token): "d\(token.id)"
        }
    }

    /// For logs: never the secret.
    public var logDescription: String {
        switch self {
        case .anonymous: "anonymous"
        case .user(let user, _): "user:\(user.username)"
        case .deployToken(let token): "deploy-token:\(token.id)"
        }
    }
}

/// A secret presented by a caller, with where it came from. Which kind of token it is comes from the
/// store: a personal token and a deploy token are both accepted in Basic auth's password.
public enum Credential: Sendable, Equatable {
    /// Basic password, `PRIVATE-TOKEN` or Bearer: a personal or a deploy token.
    case anyToken(String)
    /// The `Deploy-Token` header.
    case deployToken(String)
}
