import Foundation
import PostgresClient

/// `orchestrator report daily|weekly`: what the old daily and weekly scripts printed, from the
/// stored history — resources, databases, services, maintenance runs, backups and alerts over the
/// last 24 hours or 7 days.
public struct PeriodReport: Sendable, Codable {
    public enum Period: String, Sendable, Codable, CaseIterable {
        case daily, weekly

        public var seconds: TimeInterval { self == .daily ? 86_400 : 7 * 86_400 }
    }

    /// One metric of one subject over the period: raw samples, plus daily rollups for days whose
    /// raw samples were already pruned.
    public struct Metric: Sendable, Codable, Equatable {
        public let host: String
        public let category: String
        public let subject: String
        public let metric: String
        public let unit: String?
        public let min: Double?
        public let avg: Double?
        public let max: Double?
        /// Samples with a number; all samples (numbers or not); samples that failed.
        public let count: Int
        public let samples: Int
        public let failed: Int
        public let latest: Double?
        public let latestStatus: String?
        public let latestMessage: String?
    }

    /// Runs of one job kind that started in the period.
    public struct Runs: Sendable, Codable, Equatable {
        public let kind: String
        public let runs: Int
        public let succeeded: Int
        public let failed: Int
        public let timedOut: Int
        public let cancelled: Int
        public let abandoned: Int
        public let running: Int
        /// Jobs that failed after their last attempt.
        public let jobsFailed: Int
        public let totalSeconds: Double
        public let longestSeconds: Double?
        public let lastError: String?
    }

    public struct Backups: Sendable, Codable, Equatable {
        public let profile: String
        public let made: Int
        public let bytes: Int64
        public let verificationsPassed: Int
        public let verificationsFailed: Int
        public let drillsPassed: Int
        public let drillsFailed: Int
        public let newestVerifiedAt: Date?
        public let newestDrillAt: Date?
        public let warnings: [String]
    }

    public struct Alerts: Sendable, Codable, Equatable {
        public let fired: Int
        public let resolved: Int
        public let firingNow: Int
        /// Episodes fired or resolved in the period, and those still firing.
        public let episodes: [AlertRecord]
    }

    public let period: Period
    public let from: Date
    public let until: Date
    public let resources: [Metric]
    public let databases: [Metric]
    public let services: [Metric]
    public let maintenance: [Runs]
    public let backups: [Backups]
    public let alerts: Alerts

    static let resourceMetrics = [
        "cpu.usage_percent", "load.per_core", "memory.used_percent", "swap.used_percent", "temperature.celsius",
        "disk.used_percent", "disk.inodes_used_percent", "uptime.seconds",
    ]
    static let databaseMetrics = [
        "pg.up", "pg.size_bytes", "pg.connections", "pg.connections_used_percent", "pg.cache_hit_percent", "pg.tps", "pg.xid_age",
        "pg.xid_wraparound_percent", "pg.longest_transaction_seconds", "pg.idle_in_transaction", "pg.locks_waiting",
        "pg.replication_lag_seconds", "pg.replication_lag_bytes", "pg.slot_retained_bytes",
    ]

    public static func load(_ period: Period, configuration: Configuration, now: Date = Date(), on connection: PostgresConnection) async throws -> PeriodReport {
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
