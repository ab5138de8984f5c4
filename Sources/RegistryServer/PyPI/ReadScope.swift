import Registry

/// The projects a read route is about, resolved once from its scope (`PyPIEndpoints.resolve`),
/// with what its answers need: the index's title, the root its links hang from, and who may keep a copy.
struct ReadScope: Sendable {
    var projects: [Project]
    /// The project's or the group's name.
    var title: String
    /// `projects/:id/packages/pypi` or `groups/:id/-/packages/pypi`, with the id as the client sent it.
    var root: String
    var audience: Audience
    /// What forwarding to the upstream index looks at: the project, or the group.
    var forwarding: ForwardingScope
}

/// Who may keep a copy of an answer: shared caches for public projects, the caller's own otherwise.
enum Audience: Sendable {
    case everyone
    case caller

    var pageCacheControl: String {
        // Always revalidate a page (an upload must show at once); the ETag makes that cheap.
        self == .everyone ? "public, max-age=0, must-revalidate" : "private, max-age=0, must-revalidate"
    }

    var fileCacheControl: String {
        // A file URL names its content by sha256: it never changes.
        self == .everyone ? "public, max-age=31536000, immutable" : "private, max-age=31536000, immutable"
    }

    /// A project's answers are the same for everyone when the project is public; group answers
    /// depend on who asks, so group routes always use `.caller`.
    init(project: Project) {
        self = project.visibility == .public ? .everyone : .caller
    }
}
