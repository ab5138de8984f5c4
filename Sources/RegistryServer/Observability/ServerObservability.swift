import CoreMetrics
import Prometheus
import Registry
import WireHTTP1

/// What the server needs to be watched: the counters, the readiness probe, who may read
/// `/-/metrics`, and where request ids come from. Made once by `serve`.
public struct ServerObservability: Sendable {
    /// What the registry counts (counting nothing when metrics are off).
    public let metrics: RegistryMetrics
    /// Where `/-/metrics` reads from: the counters when on, and always the build info.
    public let prometheus: PrometheusCollectorRegistry
    public let readiness: ReadinessProbe
    public let allowlist: MonitoringAllowlist
    public let requestIDs: RequestIDSource
    let http: HTTPMetrics
    let process = ProcessMetrics()

    public init(backend: ServerMetricsBackend, readiness: ReadinessProbe, allowlist: MonitoringAllowlist, version: String) {
        self.metrics = backend.metrics
        self.prometheus = backend.registry
        self.readiness = readiness
        self.allowlist = allowlist
        self.requestIDs = RequestIDSource()
        self.http = HTTPMetrics(factory: backend.metrics.factory)
        Gauge(label: "wheelhouse_build_info", dimensions: [("version", version)], factory: PrometheusBackend(registry: backend.registry)).record(1)
    }

    /// Replays counted as requests of the route they replay, and as replays; a replayed file (a
    /// small one read from S3 is kept like a page) as a download too.
    var replayObserver: ReplayObserver {
        let http = self.http
        let metrics = self.metrics
        return ReplayObserver { route, status, bodyBytes, duration in
            metrics.replayedAnswers.increment()
            http.record(route: route, method: "GET", status: status, duration: duration)
            if status == 200 || status == 206, route.contains(PyPIRoute.fileRouteMarker) {
                metrics.downloads.increment()
                metrics.downloadBytes.increment(by: bodyBytes)
            }
        }
    }
}

/// Where counting goes: a Prometheus registry, or nowhere (`counting: false`, the benchmark's
/// "metrics off"; `/-/metrics` then shows the build and the process only). Made before the
/// stores are opened, since they count into it too.
public struct ServerMetricsBackend: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let metrics: RegistryMetrics

    public init(counting: Bool) {
        self.registry = PrometheusCollectorRegistry()
        self.metrics = RegistryMetrics(factory: counting ? PrometheusBackend(registry: self.registry) : NOOPMetricsHandler.instance)
    }
}
