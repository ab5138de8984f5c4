/// The application settings, read and changed by administrators through the REST API and by
/// operators through the CLI: one service underneath both.
public struct SettingsService: Sendable {
    let store: MetadataStore
    let freshness: Freshness
    private let cache = ExpiringCache<Int, ApplicationSettings>(lifetime: CacheLifetimes.settings, capacity: 1)
    /// Requests arriving while the settings are being read again share that read.
    private let reading = SingleFlight<Int, ApplicationSettings>()

    init(store: MetadataStore, freshness: Freshness) {
        self.store = store
        self.freshness = freshness
        let cache = self.cache
        freshness.onChange { _ in cache.expireAll() }
    }

    /// The settings now (at most `CacheLifetimes.settings` old when changed elsewhere).
    public func current() async throws -> ApplicationSettings {
        if let settings = self.cache.value(for: 0) { return settings }
        return try await self.reading.run(0) {
            let settings = Self.decode(try await self.store.settingsRows())
            self.cache.set(settings, for: 0)
            return settings
        }
    }

    /// The settings, for an administrator.
    public func current(for principal: Principal) async throws -> ApplicationSettings {
        _ = try Self.administrator(principal, writing: false)
        return try await self.current()
    }

    /// Applies a change, for an administrator, or with no permission check when `principal` is nil
    /// (the CLI). A bad field throws `SettingsError` and nothing is written. The change is recorded
    /// as `author`'s, the upstream password only as hidden.
    public func update(_ change: SettingsChange, by principal: Principal?, author: AuditAuthor) async throws -> ApplicationSettings {
        if let principal { _ = try Self.administrator(principal, writing: true) }
        return try await self.freshness.afterWrite(.access) {
            let next = try change.applied(to: Self.decode(try await self.store.settingsRows()))
            let rows = Self.encode(next)
            try await self.store.saveSettingsRows(rows) { old in
                let changes = SettingsAudit.changes(from: old, to: rows, secret: Key.password)
                return changes.isEmpty ? [] : [.settingsUpdated(changes, by: author)]
            }
            return next
        }
    }

    private static func administrator(_ principal: Principal, writing: Bool) throws -> User {
        guard case .user(let user, let scopes) = principal else { throw RegistryError.unauthenticated }
        guard scopes.contains(.api) || (!writing && scopes.contains(.readAPI)) else {
            throw RegistryError.forbidden("403 Forbidden - insufficient_scope")
        }
        guard user.isAdmin else { throw RegistryError.forbidden("403 Forbidden") }
        return user
    }

    // MARK: Rows

    fileprivate enum Key {
        static let forwarding = "pypi_package_requests_forwarding"
        static let mode = "pypi_package_requests_forwarding_mode"
        static let url = "pypi_upstream_url"
        static let username = "pypi_upstream_username"
        static let password = "pypi_upstream_password"
        static let ttl = "pypi_upstream_ttl_seconds"
    }

    private static func decode(_ rows: [String: String]) -> ApplicationSettings {
        var settings = ApplicationSettings()
        if let forwarding = rows[Key.forwarding] { settings.forwarding = forwarding == "true" }
        if let mode = rows[Key.mode].flatMap(ApplicationSettings.ForwardingMode.init(rawValue:)) { settings.forwardingMode = mode }
        settings.upstreamURL = rows[Key.url]
        settings.upstreamUsername = rows[Key.username]
        settings.upstreamPassword = rows[Key.password]
        if let ttl = rows[Key.ttl].flatMap(Int.init) { settings.upstreamTTLSeconds = ttl }
        // Forwarding without an upstream cannot happen; a hand-edited database does not make it.
        if settings.upstreamURL == nil { settings.forwarding = false }
        return settings
    }

    private static func encode(_ settings: ApplicationSettings) -> [String: String?] {
        [
            Key.forwarding: settings.forwarding ? "true" : "false",
            Key.mode: settings.forwardingMode.rawValue,
            Key.url: settings.upstreamURL,
            Key.username: settings.upstreamUsername,
            Key.password: settings.upstreamPassword,
            Key.ttl: String(settings.upstreamTTLSeconds),
        ]
    }
}
