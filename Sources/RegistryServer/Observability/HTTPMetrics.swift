import CoreMetrics
import Metrics
import NIOConcurrencyHelpers

/// `wheelhouse_http_requests_total` and `wheelhouse_http_request_duration_seconds`. Routes are
/// labelled by their template, never the raw path, so the number of series is bounded by the
/// routes the server has. Each series' metric object is made once and then found in a dictionary
/// under one lock: a request costs a lookup and two atomic adds.
final class HTTPMetrics: Sendable {
    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var statusClass: Int
    }

    private let factory: any MetricsFactory
    private let counters = NIOLockedValueBox<[RequestKey: Counter]>([:])
    private let timers = NIOLockedValueBox<[String: Timer]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, statusClass: status / 100)
        let counter = self.counters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "wheelhouse_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", "\(key.statusClass)xx")],
                factory: self.factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timer = self.timers.withLockedValue { timers in
            if let timer = timers[route] { return timer }
            let timer = Timer(label: "wheelhouse_http_request_duration_seconds", dimensions: [("route", route)], factory: self.factory)
            timers[route] = timer
            return timer
        }
        timer.record(duration: duration)
    }
}
