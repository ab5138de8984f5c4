/// GitLab's roles, with GitLab's numeric access levels.
public enum AccessLevel: Int, Sendable, Comparable, CaseIterable, Codable {
    case guest = 10
    case reporter = 20
    case developer = 30
    case maintainer = 40
    case owner = 50

    public init?(name: String) {
        switch name.lowercased() {
        case "guest": self = .guest
        case "reporter": self = .reporter
        case "developer": self = .developer
        case "maintainer": self = .maintainer
        case "owner": self = .owner
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .guest: "guest"
        case .reporter: "reporter"
        case .developer: "developer"
        case .maintainer: "maintainer"
        case .owner: "owner"
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
