/// What a simple route is about, for forwarding: one project, or every project below a group.
public enum ForwardingScope: Sendable {
    case project(Project)
    case group(Namespace)
}

/// What `simple/:name` does with a name that no local package of the scope has.
public enum Forwarding: Sendable, Equatable {
    /// 404, as without forwarding.
    case none
    /// GitLab's answer: a 302 to this URL.
    case redirect(String)
    /// Serve the upstream's project, cached.
    case cache(UpstreamIndex)
}

/// The rules that keep forwarding safe from dependency confusion: a name forwards only when the
/// scope's forwarding is on (the nearest group's override, else the instance setting) and no project
/// the scope covers has, or ever had, a package of that name (visible to the caller or not).
public struct ForwardingPolicy: Sendable {
    let store: MetadataStore
    let settings: SettingsService
    /// Decisions per scope and name, expired by every change made here (an upload takes a name at once).
    private let decisions = ExpiringCache<String, Bool>(lifetime: CacheLifetimes.packagesVersions)
    /// One computation per key at a time: when a decision expires under load, the requests
    /// arriving meanwhile share one set of queries instead of each making its own.
    private let computing = SingleFlight<String, Bool>()

    init(store: MetadataStore, settings: SettingsService, freshness: Freshness) {
        self.store = store
        self.settings = settings
        let decisions = self.decisions
        freshness.onChange { _ in decisions.expireAll() }
    }

    public func forwarding(of normalizedName: String, for scope: ForwardingScope) async throws -> Forwarding {
        let settings = try await self.settings.current()
        guard let upstream = settings.upstream else { return .none }
        // The instance setting is part of the key: a change to it must not wait for the entry to expire.
        let key: String
        switch scope {
        case .project(let project): key = "p\(project.id)|\(settings.forwarding)|\(normalizedName)"
        case .group(let group): key = "g\(group.id)|\(settings.forwarding)|\(normalizedName)"
        }
        let forwards: Bool
        if let decided = self.decisions.value(for: key) {
            forwards = decided
        } else {
            let instance = settings.forwarding
            forwards = try await self.computing.run(key) {
                let decided = try await self.forwards(normalizedName, for: scope, instance: instance)
                self.decisions.set(decided, for: key)
                return decided
            }
        }
        guard forwards else { return .none }
        switch settings.forwardingMode {
        case .redirect: return .redirect(upstream.projectURL(normalizedName))
        case .cache: return .cache(upstream)
        }
    }

    /// Whether forwarding is on for the scope, at the instance or by its nearest override.
    private func isEnabled(for scope: ForwardingScope, instance: Bool) async throws -> Bool {
        let namespaceID: NamespaceID
        switch scope {
        case .project(let project): namespaceID = project.namespaceID
        case .group(let group): namespaceID = group.id
        }
        return try await self.store.nearestForwardingOverride(from: namespaceID) ?? instance
    }

    private func forwards(_ normalizedName: String, for scope: ForwardingScope, instance: Bool) async throws -> Bool {
        guard try await self.isEnabled(for: scope, instance: instance) else { return false }
        let projects: [ProjectID]
        switch scope {
        case .project(let project): projects = [project.id]
        case .group(let group): projects = try await self.store.projectIDs(under: group)
        }
        return try await !self.store.nameIsTaken(normalizedName, in: projects)
    }
}
