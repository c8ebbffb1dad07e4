import Alerts
import Backups
import Foundation
import Health
import PostgresClient
import Queue
import Settings

/// Everything the overview page shows, read through the domain modules' queries; `/api/overview`
/// returns it as JSON.
package struct Overview: Sendable, Encodable {
    package struct Backup: Sendable, Encodable {
        package let freshness: BackupFreshness
        package let summary: BackupProfileSummary?
    }

    package let generatedAt: Date
    package let queue: QueueStatus
    /// Jobs that failed for good in the last 24 hours (at most 10).
    package let failures: [RecentFailure]
    package let tiles: [HealthTile]
    /// HTTP, TCP, systemd and PostgreSQL checks, down first.
    package let services: [ServiceStatus]
    package let backups: [Backup]
    package let walArchive: WALArchiveStatus
    package let alertCounts: OpenAlertCounts
    /// Firing alerts, most severe first (at most `alertLimit`).
    package let alerts: [AlertRecord]

    package static let alertLimit = 50

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", queue, failures, tiles, services, backups, walArchive = "wal_archive", alertCounts = "alert_counts", alerts
    }

    package static func load(configuration: Configuration, on connection: PostgresConnection, now: Date = Date()) async throws -> Overview {
        let queue = try await QueueStatus.load(on: connection, aliveWithin: max(120, configuration.worker.leaseSeconds * 2))
        // One read of the newest run for the tiles and the services both.
        let newest = try await LatestHealthSample.load(metrics: HealthTile.metrics + ServiceStatus.metrics, on: connection)
        let tileMetrics = Set(HealthTile.metrics)
        let latest = newest.filter { tileMetrics.contains($0.metric) }
        let series = try await HealthSeries.load(metrics: HealthTile.metrics, since: now.addingTimeInterval(-86_400), until: now,
                                                 buckets: HealthTile.buckets, on: connection)
        let order = Dictionary(uniqueKeysWithValues: HealthTile.metrics.enumerated().map { ($1, $0) })
        let tiles = latest
            .sorted { (order[$0.metric] ?? 0, $0.host, $0.subject) < (order[$1.metric] ?? 0, $1.host, $1.subject) }
            .map { sample in
                HealthTile(sample: sample, series: series[.init(host: sample.host, metric: sample.metric, subject: sample.subject)],
                           thresholds: configuration.alerts.thresholds)
            }
        let freshness = try await BackupFreshness.load(configuration: configuration, on: connection, now: now)
        let summaries = Dictionary(try await BackupProfileSummary.load(on: connection).map { ($0.profile, $0) }, uniquingKeysWith: { a, _ in a })
        return Overview(
            generatedAt: now, queue: queue, failures: try await RecentFailure.load(on: connection), tiles: tiles,
            services: ServiceStatus.from(newest),
            backups: freshness.map { Backup(freshness: $0, summary: summaries[$0.profile]) },
            walArchive: try await WALArchiveStatus.load(on: connection),
            alertCounts: try await OpenAlertCounts.load(on: connection),
            alerts: try await AlertRecord.load(all: false, limit: alertLimit, on: connection)
        )
    }
}
