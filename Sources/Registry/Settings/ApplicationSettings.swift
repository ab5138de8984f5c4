/// The instance's settings (GitLab's application settings, the subset Wheelhouse has): today, how
/// `simple/:name` forwards to an upstream index when no local package has the name.
public struct ApplicationSettings: Sendable, Equatable {
    /// What forwarding does with a name no local package has.
    public enum ForwardingMode: String, Sendable, CaseIterable {
        /// Fetch, verify, store and serve the upstream project ourselves.
        case cache
        /// GitLab's behaviour: a 302 to the upstream's page, nothing fetched.
        case redirect
    }

    /// GitLab's `pypi_package_requests_forwarding`. Off by default, unlike GitLab: forwarding is
    /// what lets a public package stand in for a private name, so it is something to turn on knowingly.
    public var forwarding = false
    public var forwardingMode = ForwardingMode.cache
    /// The upstream's simple index (PEP 503/691), absolute http(s), ending in `/`. No default.
    public var upstreamURL: String?
    public var upstreamUsername: String?
    /// Write-only: sent to the upstream, never rendered.
    public var upstreamPassword: String?
    /// How long an upstream project page is used before it is revalidated.
    public var upstreamTTLSeconds = 600

    public static let maximumTTLSeconds = 30 * 24 * 3600

    public init() {}

    /// The upstream as fetches need it, when forwarding can happen at all.
    public var upstream: UpstreamIndex? {
        guard let upstreamURL else { return nil }
        return UpstreamIndex(
            simpleURL: upstreamURL,
            username: self.upstreamUsername,
            password: self.upstreamPassword,
            ttl: .seconds(self.upstreamTTLSeconds)
        )
    }
}

/// The upstream index to fetch from, with its credentials.
public struct UpstreamIndex: Sendable, Equatable {
    /// Ends in `/`.
    public var simpleURL: String
    public var username: String?
    public var password: String?
    public var ttl: Duration

    /// `<simple>/<normalised name>/`
    public func projectURL(_ normalizedName: String) -> String {
        self.simpleURL + normalizedName + "/"
    }
}

/// A change to the settings: nil leaves a field as it is; for the optional strings, an empty string
/// clears the field.
public struct SettingsChange: Sendable, Equatable {
    public var forwarding: Bool?
    public var forwardingMode: String?
    public var upstreamURL: String?
    public var upstreamUsername: String?
    public var upstreamPassword: String?
    public var upstreamTTLSeconds: String?

    public init(
        forwarding: Bool? = nil,
        forwardingMode: String? = nil,
        upstreamURL: String? = nil,
        upstreamUsername: String? = nil,
        upstreamPassword: String? = nil,
        upstreamTTLSeconds: String? = nil
    ) {
        self.forwarding = forwarding
        self.forwardingMode = forwardingMode
        self.upstreamURL = upstreamURL
        self.upstreamUsername = upstreamUsername
        self.upstreamPassword = upstreamPassword
        self.upstreamTTLSeconds = upstreamTTLSeconds
    }

    /// The settings after this change, or the first field it gets wrong (GitLab's field name and problem).
    public func applied(to settings: ApplicationSettings) throws(SettingsError) -> ApplicationSettings {
        var next = settings
        if let forwardingMode {
            guard let mode = ApplicationSettings.ForwardingMode(rawValue: forwardingMode) else {
                throw SettingsError(field: "pypi_package_requests_forwarding_mode", problem: "must be one of: cache, redirect")
            }
            next.forwardingMode = mode
        }
        if let upstreamURL {
            if upstreamURL.isEmpty {
                next.upstreamURL = nil
            } else {
                guard let url = Self.simpleIndexURL(upstreamURL) else {
                    throw SettingsError(field: "pypi_upstream_url", problem: "must be an absolute http:// or https:// URL")
                }
                next.upstreamURL = url
            }
        }
        if let upstreamUsername { next.upstreamUsername = upstreamUsername.isEmpty ? nil : upstreamUsername }
        if let upstreamPassword { next.upstreamPassword = upstreamPassword.isEmpty ? nil : upstreamPassword }
        if let upstreamTTLSeconds {
            guard let ttl = Int(upstreamTTLSeconds), (0...ApplicationSettings.maximumTTLSeconds).contains(ttl) else {
                throw SettingsError(
                    field: "pypi_upstream_ttl_seconds",
                    problem: "must be a whole number of seconds from 0 to \(ApplicationSettings.maximumTTLSeconds)"
                )
            }
            next.upstreamTTLSeconds = ttl
        }
        if let forwarding { next.forwarding = forwarding }
        if next.forwarding && next.upstreamURL == nil {
            throw SettingsError(field: "pypi_package_requests_forwarding", problem: "needs pypi_upstream_url to be set first")
        }
        return next
    }

    /// An absolute http(s) URL with a host and no fragment, credentials or control characters,
    /// given one trailing slash.
    static func simpleIndexURL(_ text: String) -> String? {
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            rest = text.dropFirst("https://".count)
        } else if lowered.hasPrefix("http://") {
            rest = text.dropFirst("http://".count)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard !authority.isEmpty, !authority.contains("@"),
            !text.contains("#"), !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.value > 0x7E })
        else { return nil }
        return text.hasSuffix("/") ? text : text + "/"
    }
}

/// A settings value that breaks a rule: which field, and what is wrong with it.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var problem: String

    public var description: String { "\(self.field) \(self.problem)" }
}
