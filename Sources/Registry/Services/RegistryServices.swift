import Logging
import NIOPosix

/// Every service of the registry, made once over one store and one blob store and sharing one
/// `Freshness`: what the server and the command line are built on.
public struct RegistryServices: Sendable {
    public let freshness: Freshness
    /// Credentials to principals.
    public let authenticator: Authenticator
    /// Logins and passwords to users (web sign-in).
    public let passwords: PasswordVerifier
    /// Who may see and do what.
    public let access: AccessDecisions
    /// Indexes, files and downloads.
    public let reader: PackageReader
    /// Uploads.
    public let publisher: PackagePublisher
    /// Yanks, deletions and garbage collection.
    public let maintenance: PackageMaintenance
    /// Loading large catalogues without their bytes (benchmarks).
    public let catalogue: CatalogueLoader
    /// Operators' creations (the CLI), with no permission check.
    public let admin: AdminService
    /// The REST API's operations, each with GitLab's permission check.
    public let management: ManagementService
    /// The application settings (forwarding to the upstream index).
    public let settings: SettingsService
    /// Whether a name no local package has forwards to the upstream, and how.
    public let forwarding: ForwardingPolicy
    /// The upstream's project pages and files, cached.
    public let upstreamPages: UpstreamPages
    public let upstreamFiles: UpstreamFiles
    /// Browser sessions and the throttle on failed sign-ins (the web interface).
    public let webSessions: WebSessions
    public let signInThrottle: SignInThrottle
    /// What the web pages show: recent releases, search, a package's page.
    public let catalogueViews: CatalogueViews
    /// Who changed what: the audit events, for those allowed to read them.
    public let audit: AuditLog

    /// `upstream` fetches from the upstream index; without one (the CLI), cache-mode forwarding
    /// answers from what is cached only.
    public init(
        store: MetadataStore,
        blobs: any BlobStore,
        logger: Logger,
        upstream: UpstreamClient? = nil,
        threadPool: NIOThreadPool = .singleton
    ) {
        let freshness = Freshness()
        let control = AccessControl(store: store)
        let access = AccessDecisions(store: store, control: control, freshness: freshness)
        let admin = AdminService(store: store)
        let maintenance = PackageMaintenance(store: store, blobs: blobs, freshness: freshness, logger: logger)
        self.freshness = freshness
        self.authenticator = Authenticator(store: store, freshness: freshness)
        self.passwords = PasswordVerifier(store: store)
        self.access = access
        self.reader = PackageReader(store: store, blobs: blobs, freshness: freshness)
        self.publisher = PackagePublisher(store: store, blobs: blobs, freshness: freshness, threadPool: threadPool, logger: logger)
        self.maintenance = maintenance
        self.catalogue = CatalogueLoader(store: store, freshness: freshness)
        self.admin = admin
        let settings = SettingsService(store: store, freshness: freshness)
        self.settings = settings
        self.forwarding = ForwardingPolicy(store: store, settings: settings, freshness: freshness)
        if let upstream {
            // A settings change (or any other administrative one) lets the next request try an
            // upstream that recently failed, rather than waiting out `UpstreamClient.retryInterval`.
            freshness.onChange { change in if change == .access { upstream.forgetFailures() } }
        }
        let pages = UpstreamPages(store: store, client: upstream, logger: logger)
        self.upstreamPages = pages
        self.upstreamFiles = UpstreamFiles(store: store, blobs: blobs, client: upstream, pages: pages, logger: logger)
        self.webSessions = WebSessions(store: store, freshness: freshness)
        self.signInThrottle = SignInThrottle(store: store)
        self.catalogueViews = CatalogueViews(store: store, reader: self.reader)
        self.audit = AuditLog(store: store, control: control, access: access)
        self.management = ManagementService(
            store: store,
            admin: admin,
            control: control,
            access: access,
            maintenance: maintenance,
            freshness: freshness
        )
    }
}
