import CoreMetrics
import Prometheus

/// The serve process's own request counts and durations, recorded by Hummingbird's
/// `MetricsMiddleware` through swift-metrics into a registry that lives as long as the process
/// (the rest of `/metrics` is read from the database per scrape). Hummingbird's metric and
/// dimension names are renamed to Prometheus style under `orchestrator_web_`.
package final class RequestMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    package init() {}

    /// Makes this the process's swift-metrics backend. swift-metrics allows one per process, so
    /// only `orchestrator serve` calls it.
    package func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = Self.rename
        // A page is expected in tens of milliseconds; finer buckets than the default 5 ms to 10 s.
        factory.defaultDurationHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000].map { .milliseconds($0) }
        MetricsSystem.bootstrap(factory)
    }

    func text() -> String { registry.emitToString() }

    static let names = [
        "hb.requests": "orchestrator_web_requests",
        "hb.request.errors": "orchestrator_web_request_errors",
        "http.server.request.duration": "orchestrator_web_request_duration_seconds",
        "http.server.active_requests": "orchestrator_web_active_requests",
    ]
    static let dimensions = ["http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "error"]

    static func rename(_ name: String, _ labels: [(String, String)]) -> (String, [(String, String)]) {
        let renamed = names[name] ?? "orchestrator_web_" + name.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
        return (renamed, labels.map { (dimensions[$0.0] ?? $0.0.replacingOccurrences(of: ".", with: "_"), $0.1) })
    }
}
