import Alerts
import Foundation
import PostgresClient
import Settings

/// `orchestrator report daily|weekly`: what the old daily and weekly scripts printed, from the
/// stored history — resources, databases, services, maintenance runs, backups and alerts over the
/// last 24 hours or 7 days.
package struct PeriodReport: Sendable, Codable {
    package enum Period: String, Sendable, Codable, CaseIterable {
        case daily, weekly

        package var seconds: TimeInterval { self == .daily ? 86_400 : 7 * 86_400 }
    }

    /// One metric of one subject over the period: raw samples, plus daily rollups for days whose
    /// raw samples were already pruned.
    package struct Metric: Sendable, Codable, Equatable {
        package let host: String
        package let category: String
        package let subject: String
        package let metric: String
        package let unit: String?
        package let min: Double?
        package let avg: Double?
        package let max: Double?
        /// Samples with a number; all samples (numbers or not); samples that failed.
        package let count: Int
        package let samples: Int
        package let failed: Int
        package let latest: Double?
        package let latestStatus: String?
        package let latestMessage: String?
    }

    /// Runs of one job kind that started in the period.
    package struct Runs: Sendable, Codable, Equatable {
        package let kind: String
        package let runs: Int
        package let succeeded: Int
        package let failed: Int
        package let timedOut: Int
        package let cancelled: Int
        package let abandoned: Int
        package let running: Int
        /// Jobs that failed after their last attempt.
        package let jobsFailed: Int
        package let totalSeconds: Double
        package let longestSeconds: Double?
        package let lastError: String?
    }

    package struct Backups: Sendable, Codable, Equatable {
        package let profile: String
        package let made: Int
        package let bytes: Int64
        package let verificationsPassed: Int
        package let verificationsFailed: Int
        package let drillsPassed: Int
        package let drillsFailed: Int
        package let newestVerifiedAt: Date?
        package let newestDrillAt: Date?
        package let warnings: [String]
    }

    package struct Alerts: Sendable, Codable, Equatable {
        package let fired: Int
        package let resolved: Int
        package let firingNow: Int
        /// Episodes fired or resolved in the period, and those still firing.
        package let episodes: [AlertRecord]
    }

    package let period: Period
    package let from: Date
    package let until: Date
    package let resources: [Metric]
    package let databases: [Metric]
    package let services: [Metric]
    package let maintenance: [Runs]
    package let backups: [Backups]
    package let alerts: Alerts

    static let resourceMetrics = [
        "cpu.usage_percent", "load.per_core", "memory.used_percent", "swap.used_percent", "temperature.celsius",
        "disk.used_percent", "disk.inodes_used_percent", "uptime.seconds",
    ]
    static let databaseMetrics = [
        "pg.up", "pg.size_bytes", "pg.connections", "pg.connections_used_percent", "pg.cache_hit_percent", "pg.tps", "pg.xid_age",
        "pg.xid_wraparound_percent", "pg.longest_transaction_seconds", "pg.idle_in_transaction", "pg.locks_waiting",
        "pg.replication_lag_seconds", "pg.replication_lag_bytes", "pg.slot_retained_bytes",
    ]

    package static func load(_ period: Period, configuration: Configuration, now: Date = Date(), on connection: PostgresConnection) async throws -> PeriodReport {
        let from = now.addingTimeInterval(-period.seconds)
        return PeriodReport(
            period: period, from: from, until: now,
            resources: try await metrics(from: from, until: now, categories: ["system"], metrics: resourceMetrics, on: connection),
            databases: try await metrics(from: from, until: now, categories: ["postgres"], metrics: databaseMetrics, on: connection),
            services: try await metrics(from: from, until: now, categories: ["service", "check"], metrics: nil, on: connection),
            maintenance: try await runs(from: from, until: now, on: connection),
            backups: try await backups(from: from, until: now, configuration: configuration, on: connection),
            alerts: try await alerts(from: from, on: connection)
        )
    }
}
