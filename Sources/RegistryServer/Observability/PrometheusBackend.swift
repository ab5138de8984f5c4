import CoreMetrics
import Prometheus

/// swift-metrics' factory over a `PrometheusCollectorRegistry`, giving each metric its help text
/// and the request-duration histogram buckets fit for a registry. swift-prometheus' own factory
/// registers metrics without help, which `promtool check metrics` reports as a problem.
public struct PrometheusBackend: MetricsFactory {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Most answers take well under 5 ms (a cached page is tens of microseconds), so the buckets
    /// start at a quarter of a millisecond; uploads of large files take seconds to minutes.
    static let durationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    static let valueBuckets: [Double] = [1024, 16384, 262_144, 1_048_576, 16_777_216, 268_435_456, 1_073_741_824]

    private static func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricHelp.text(for: label))
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        self.registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        self.registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return self.registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions) }
        return self.registry.makeValueHistogram(descriptor: Self.descriptor(label), labels: dimensions, buckets: Self.valueBuckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        self.registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        self.registry.makeDurationHistogram(descriptor: Self.descriptor(label), labels: dimensions, buckets: Self.durationBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { self.registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { self.registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { self.registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { self.registry.unregisterDurationHistogram(histogram) }
    }
}

/// What each metric means, for its `# HELP` line.
enum MetricHelp {
    static func text(for name: String) -> String {
        self.texts[name] ?? "Wheelhouse's \(name)."
    }

    private static let texts: [String: String] = [
        "wheelhouse_http_requests_total": "HTTP requests answered, by route, method and status class (replayed answers included).",
        "wheelhouse_http_request_duration_seconds": "Time from a request's head to its answer's head, by route.",
        "wheelhouse_uploads_total": "Distribution files uploaded and stored.",
        "wheelhouse_upload_bytes_total": "Bytes of distribution files uploaded and stored.",
        "wheelhouse_downloads_total": "Distribution files (and core metadata files) served, in whole or in part.",
        "wheelhouse_download_bytes_total": "Bytes of distribution files (and core metadata files) served.",
        "wheelhouse_replayed_answers_total": "Answers sent again from the replay cache, below the HTTP framework.",
        "wheelhouse_page_cache_hits_total": "Rendered pages served from a cache, by cache.",
        "wheelhouse_page_cache_misses_total": "Rendered pages a cache did not hold, by cache.",
        "wheelhouse_database_connections_in_use": "Database connections lent out, by pool.",
        "wheelhouse_database_connections_waiting": "Requests waiting for a database connection, by pool.",
        "wheelhouse_database_errors_total": "Times the database could not be reached (each a 503).",
        "wheelhouse_blob_store_errors_total": "Failed blob store operations (a missing blob is not counted).",
        "wheelhouse_upstream_fetches_total": "Requests sent to the upstream index.",
        "wheelhouse_upstream_hits_total": "Upstream pages and files served from the cache without asking the upstream.",
        "wheelhouse_upstream_misses_total": "Upstream pages and files the cache did not hold (or held expired).",
        "wheelhouse_upstream_stale_total": "Upstream pages served stale because the upstream failed.",
        "wheelhouse_build_info": "Always 1; the labels say which build is running.",
    ]
}
