/// Who may see a group or project without being a member.
public enum Visibility: String, Sendable, Codable, CaseIterable {
    /// Members only.
    case `private`
    /// Any signed-in user (a personal token), not deploy tokens of other projects.
    case `internal`
    /// Everyone, anonymous callers included.
    case `public`

    /// How far it opens: private < internal < public.
    var openness: Int {
        switch self {
        case .private: 0
        case .internal: 1
        case .public: 2
        }
    }
}
