import CoreMetrics

/// What the registry counts, made once through the metrics backend `serve` chose (Prometheus, or
/// nothing when metrics are off) and passed to whoever counts. Each metric is created up front, so
/// counting is an atomic add on an object already in hand, never a lookup by name.
public struct RegistryMetrics: Sendable {
    public let factory: any MetricsFactory
    public let uploads: Counter
    public let uploadBytes: Counter
    public let downloads: Counter
    public let downloadBytes: Counter
    public let replayedAnswers: Counter
    public let databaseErrors: Counter
    public let blobStoreErrors: Counter
    public let upstreamFetches: Counter
    public let upstreamHits: Counter
    public let upstreamMisses: Counter
    public let upstreamStale: Counter
    /// Hits and misses of the caches of rendered pages.
    public let simplePages: CacheCounters
    public let upstreamPages: CacheCounters
    public let webPages: CacheCounters

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.uploads = Counter(label: "wheelhouse_uploads_total", factory: factory)
        self.uploadBytes = Counter(label: "wheelhouse_upload_bytes_total", factory: factory)
        self.downloads = Counter(label: "wheelhouse_downloads_total", factory: factory)
        self.downloadBytes = Counter(label: "wheelhouse_download_bytes_total", factory: factory)
        self.replayedAnswers = Counter(label: "wheelhouse_replayed_answers_total", factory: factory)
        self.databaseErrors = Counter(label: "wheelhouse_database_errors_total", factory: factory)
        self.blobStoreErrors = Counter(label: "wheelhouse_blob_store_errors_total", factory: factory)
        self.upstreamFetches = Counter(label: "wheelhouse_upstream_fetches_total", factory: factory)
        self.upstreamHits = Counter(label: "wheelhouse_upstream_hits_total", factory: factory)
        self.upstreamMisses = Counter(label: "wheelhouse_upstream_misses_total", factory: factory)
        self.upstreamStale = Counter(label: "wheelhouse_upstream_stale_total", factory: factory)
        self.simplePages = CacheCounters(cache: "simple", factory: factory)
        self.upstreamPages = CacheCounters(cache: "upstream", factory: factory)
        self.webPages = CacheCounters(cache: "web", factory: factory)
    }

    /// The gauges of one database pool (`read` and `write` on SQLite, `shared` on PostgreSQL).
    public func pool(_ name: String) -> PoolGauges { PoolGauges(pool: name, factory: self.factory) }

    /// Counts nothing: for the command line, tests, and `serve --no-metrics`.
    public static var disabled: RegistryMetrics { RegistryMetrics(factory: NOOPMetricsHandler.instance) }
}

/// A cache's hits and misses, labelled with the cache's name.
public struct CacheCounters: Sendable {
    public let hits: Counter
    public let misses: Counter

    public init(cache: String, factory: any MetricsFactory) {
        self.hits = Counter(label: "wheelhouse_page_cache_hits_total", dimensions: [("cache", cache)], factory: factory)
        self.misses = Counter(label: "wheelhouse_page_cache_misses_total", dimensions: [("cache", cache)], factory: factory)
    }

    public func record(hit: Bool) {
        if hit { self.hits.increment() } else { self.misses.increment() }
    }
}

/// How many connections of a pool are lent out and how many requests wait for one. Both are
/// moved up and down around each use, so the gauge always shows the present.
public struct PoolGauges: Sendable {
    public let inUse: Gauge
    public let waiting: Gauge
    private let counts: PoolCounts

    public init(pool: String, factory: any MetricsFactory) {
        self.inUse = Gauge(label: "wheelhouse_database_connections_in_use", dimensions: [("pool", pool)], factory: factory)
        self.waiting = Gauge(label: "wheelhouse_database_connections_waiting", dimensions: [("pool", pool)], factory: factory)
        self.counts = PoolCounts()
        self.inUse.record(0)
        self.waiting.record(0)
    }

    func startWaiting() { self.waiting.record(self.counts.add(waiting: 1)) }

    func stopWaiting(gotConnection: Bool) {
        self.waiting.record(self.counts.add(waiting: -1))
        if gotConnection { self.inUse.record(self.counts.add(inUse: 1)) }
    }

    func release() { self.inUse.record(self.counts.add(inUse: -1)) }
}
