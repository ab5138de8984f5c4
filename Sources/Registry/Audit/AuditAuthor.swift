#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who made a change, as its audit event names them: a user (through a token or a browser
/// session), a deploy token, or an operator at the command line, and the client's address when
/// the change came over HTTP. Built where the request arrives and handed down to every service
/// call that changes something, so the event is written with the change.
public struct AuditAuthor: Sendable, Equatable {
    /// GitLab's `author_class`.
    public enum Kind: String, Sendable, Equatable {
        case user = "User"
        case deployToken = "DeployToken"
        case commandLine = "CommandLine"
        case anonymous = "Anonymous"
    }

    /// The id every author that is not a user has, as GitLab's unauthenticated authors have.
    public static let noUserID: Int64 = -1
    /// A deploy token's author id: GitLab's `DeployTokenAuthor` is -2, so scripts written against
    /// GitLab's events tell a deploy token from an anonymous author the same way here.
    public static let deployTokenID: Int64 = -2

    public var kind: Kind
    /// The user's id, `deployTokenID`, or `noUserID`.
    public var id: Int64
    public var name: String
    /// The client's IP address, nil at the command line.
    public var ipAddress: String?

    public init(kind: Kind, id: Int64, name: String, ipAddress: String?) {
        self.kind = kind
        self.id = id
        self.name = name
        self.ipAddress = ipAddress
    }

    /// The caller of a request from `ipAddress`. A deploy token is named by its id and name, never its secret.
    public init(_ principal: Principal, ipAddress: String?) {
        switch principal {
        case .user(let user, _):
            self.init(kind: .user, id: user.id, name: user.username, ipAddress: ipAddress)
        case .deployToken(let token):
            self.init(kind: .deployToken, id: Self.deployTokenID, name: "deploy token \(token.id) (\(token.name))", ipAddress: ipAddress)
        case .anonymous:
            self.init(kind: .anonymous, id: Self.noUserID, name: "anonymous", ipAddress: ipAddress)
        }
    }

    /// An operator running a `wheelhouse` command, named by the account that runs it.
    public static func commandLine(account: String? = Self.processAccount()) -> AuditAuthor {
        AuditAuthor(kind: .commandLine, id: Self.noUserID, name: "command line (\(account ?? "unknown"))", ipAddress: nil)
    }

    /// The login name of the account this process runs as, when the system knows it.
    public static func processAccount() -> String? {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }
}
