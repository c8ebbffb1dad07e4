import Foundation
import Health
import Settings

/// One tile of the overview: a health metric's latest value for one host and subject, judged
/// against the configured thresholds, with its last 24 hours.
package struct HealthTile: Sendable, Encodable, Equatable {
    package enum Level: String, Sendable, Encodable {
        case ok, warning, critical, unknown
    }

    package let host: String
    package let metric: String
    package let subject: String
    package let value: Double?
    package let unit: String?
    package let level: Level
    /// Why there is no value (a failed or absent sample).
    package let message: String?
    package let takenAt: Date
    /// Averages of the 24 hours' buckets, oldest first; nil where nothing was sampled.
    package let history: [Double?]

    /// The metrics shown as tiles, in this order.
    package static let metrics = [
        "cpu.usage_percent", "load.1m", "memory.used_percent", "disk.used_percent", "temperature.celsius",
        "pg.size_bytes", "pg.connections_used_percent", "pg.cache_hit_percent", "pg.xid_age", "pg.tps",
    ]
    package static let buckets = 48

    init(sample: LatestHealthSample, series: HealthSeries?, thresholds: [ThresholdRule]) {
        host = sample.host
        metric = sample.metric
        subject = sample.subject
        value = sample.value
        unit = sample.unit
        message = sample.value == nil ? (sample.message ?? sample.status) : nil
        takenAt = sample.takenAt
        if let value = sample.value {
            switch thresholds.rule(metric: sample.metric, subject: sample.subject)?.severity(of: value).map(\.0) {
            case .critical?: level = .critical
            case .warning?: level = .warning
            default: level = .ok
            }
        } else {
            level = sample.status == "failed" ? .warning : .unknown
        }
        history = (0..<Self.buckets).map { series?.buckets[$0] }
    }
}
