import Foundation
import Health
import PostgresClient
import Settings

/// What `/health` shows, read through the Health module's queries; `/api/health` returns it as
/// JSON. Without a metric: the newest value of every series with raw samples, judged by the
/// thresholds when it comes from its host's newest run. With one: that series over the range, and
/// the thresholds that apply to it.
package struct HealthView: Sendable, Encodable {
    /// A series' newest sample, judged like the overview's tiles.
    package struct Entry: Sendable, Encodable {
        package let host: String
        package let category: String
        package let subject: String
        package let metric: String
        package let value: Double?
        package let unit: String?
        package let status: String
        package let message: String?
        package let takenAt: Date
        /// Whether the host's newest run measured it; an older value is `unknown`, not judged.
        package let current: Bool
        package let level: HealthTile.Level

        enum CodingKeys: String, CodingKey {
            case host, category, subject, metric, value, unit, status, message, takenAt = "taken_at", current, level
        }
    }

    /// The levels of the rule that applies to a series (nil when none does).
    package struct Thresholds: Sendable, Encodable, Equatable {
        package let warning: Double?
        package let critical: Double?
        package let below: Bool
    }

    package struct Chart: Sendable, Encodable {
        package let range: String
        /// Other hosts that sample the same metric and subject now.
        package let hosts: [String]
        package let thresholds: Thresholds?
        package let history: HealthHistory
    }

    package let generatedAt: Date
    /// Sorted by category, subject, metric and host; empty on a chart.
    package let metrics: [Entry]
    /// Nil on the list, or when no host samples the metric and subject and none was named.
    package let chart: Chart?

    /// At most this many points per chart, whatever the range.
    package static let maximumPoints = 480

    enum CodingKeys: String, CodingKey { case generatedAt = "generated_at", metrics, chart }

    static let categoryOrder = ["system": 0, "postgres": 1, "service": 2, "check": 3]

    /// The newest sample of every series that has raw samples.
    static func list(configuration: Configuration, on connection: PostgresConnection, now: Date = Date()) async throws -> HealthView {
        let samples = try await LatestHealthSample.loadEverySeries(on: connection)
        // A run stores all its samples at the run's time, so the host's newest time is its newest run.
        let newest = Dictionary(samples.map { ($0.host, $0.takenAt) }, uniquingKeysWith: max)
        let entries = samples.map { sample in
            let current = sample.takenAt == newest[sample.host]
            return Entry(host: sample.host, category: sample.category, subject: sample.subject, metric: sample.metric, value: sample.value,
                         unit: sample.unit, status: sample.status, message: sample.message, takenAt: sample.takenAt, current: current,
                         level: current ? HealthTile(sample: sample, series: nil, thresholds: configuration.alerts.thresholds).level : .unknown)
        }.sorted {
            (categoryOrder[$0.category] ?? 9, $0.category, $0.subject, $0.metric, $0.host) < (categoryOrder[$1.category] ?? 9, $1.category, $1.subject, $1.metric, $1.host)
        }
        return HealthView(generatedAt: now, metrics: entries, chart: nil)
    }

    /// One series over the range: raw samples (at most `maximumPoints` buckets) up to a week,
    /// daily rollups beyond.
    static func chart(_ series: HealthQuery.Series, configuration: Configuration, on connection: PostgresConnection,
                      now: Date = Date()) async throws -> HealthView {
        let hosts = Set(try await LatestHealthSample.load(metrics: [series.metric], on: connection)
            .filter { $0.subject == series.subject }.map(\.host)).sorted()
        guard let host = series.host ?? hosts.first else { return HealthView(generatedAt: now, metrics: [], chart: nil) }
        let key = HealthSeries.Key(host: host, metric: series.metric, subject: series.subject)
        let since = now.addingTimeInterval(-series.range.seconds)
        let history = series.range.usesDailyRollups
            ? try await HealthHistory.daily(key, since: since, until: now, on: connection)
            : try await HealthHistory.raw(key, since: since, until: now, maxPoints: maximumPoints, on: connection)
        let rule = configuration.alerts.thresholds.rule(metric: series.metric, subject: series.subject)
        let thresholds = rule.flatMap { rule in
            rule.warning == nil && rule.critical == nil ? nil : Thresholds(warning: rule.warning, critical: rule.critical, below: rule.below)
        }
        return HealthView(generatedAt: now, metrics: [],
                          chart: Chart(range: series.range.rawValue, hosts: hosts.filter { $0 != host }, thresholds: thresholds, history: history))
    }
}
