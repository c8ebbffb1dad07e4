import Alerts
import Backups
import Foundation
import Health
import PostgresClient
import Prometheus
import Queue
import Settings

/// `/metrics`: the orchestrator's state read from the database at scrape time, written with
/// swift-prometheus's registry in the text exposition format. A fresh registry per scrape, so a
/// series that left the database (a removed profile, a stopped worker) leaves the output too.
/// Everything is a gauge: counts over the last 24 hours go down as well as up.
enum MetricsExposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(configuration: Configuration, database: DashboardDatabase, now: Date = Date()) async -> String {
        let help = "1 when this scrape could read the orchestrator's database."
        do {
            let registry = PrometheusCollectorRegistry()
            let histogram = try await database.use { connection in
                try await fill(registry, configuration: configuration, on: connection, now: now)
            }
            registry.makeGauge(name: "orchestrator_database_up", help: help).set(1.0)
            return registry.emitToString() + histogram
        } catch {
            // Nothing half-read: only the fact that the database could not be read.
            let registry = PrometheusCollectorRegistry()
            registry.makeGauge(name: "orchestrator_database_up", help: help).set(0.0)
            return registry.emitToString()
        }
    }

    /// Fills the registry's gauges; returns the run-duration histogram's text.
    static func fill(_ registry: PrometheusCollectorRegistry, configuration: Configuration, on connection: PostgresConnection, now: Date) async throws -> String {
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = [], _ value: Double) {
            if labels.isEmpty {
                registry.makeGauge(name: name, help: help).set(value)
            } else {
                registry.makeGauge(name: name, labels: labels, help: help).set(value)
            }
        }

        let status = try await QueueStatus.load(on: connection, aliveWithin: max(120, configuration.worker.leaseSeconds * 2))
        let queue = try await QueueMetrics.load(on: connection)
        for depth in queue.depth {
            gauge("orchestrator_queue_jobs", "Unfinished jobs by queue and state (queued, running).", [("queue", depth.queue), ("state", depth.state)], Double(depth.jobs))
        }
        gauge("orchestrator_queue_oldest_queued_age_seconds", "Age of the oldest queued job (0 when none is queued).",
              [], status.oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        gauge("orchestrator_queue_oldest_runnable_wait_seconds", "How long the oldest runnable queued job has waited (0 when none).",
              [], status.oldestRunnableWaitSeconds ?? 0)
        for outcome in queue.outcomes {
            gauge("orchestrator_jobs_finished_24h", "Jobs finished in the last 24 hours by kind and final state.",
                  [("kind", outcome.kind), ("state", outcome.state)], Double(outcome.jobs))
        }
        for kind in queue.durations {
            gauge("orchestrator_job_runs_24h", "Closed runs started in the last 24 hours by kind.", [("kind", kind.kind)], Double(kind.runs))
            gauge("orchestrator_job_run_duration_avg_seconds", "Average duration of the closed runs started in the last 24 hours, by kind.",
                  [("kind", kind.kind)], kind.averageSeconds)
            gauge("orchestrator_job_run_duration_max_seconds", "Longest closed run started in the last 24 hours, by kind.",
                  [("kind", kind.kind)], kind.maxSeconds)
        }

        gauge("orchestrator_workers_alive", "Workers whose heartbeat is recent.", [], Double(status.workersAlive.count))
        for worker in status.workersAlive {
            gauge("orchestrator_worker_heartbeat_age_seconds", "Seconds since the worker's last heartbeat.",
                  [("worker", worker.id), ("host", worker.host)], max(0, now.timeIntervalSince(worker.heartbeatAt)))
        }

        for profile in try await BackupProfileSummary.load(on: connection) {
            let labels = [("profile", profile.profile)]
            if let at = profile.verifiedFinishedAt {
                gauge("orchestrator_backup_last_success_timestamp_seconds", "When the newest verified backup of the profile finished (Unix time).",
                      labels, at.timeIntervalSince1970)
            }
            if let bytes = profile.verifiedBytes {
                gauge("orchestrator_backup_last_size_bytes", "Size of the newest verified backup of the profile.", labels, Double(bytes))
            }
            if let seconds = profile.verifiedSeconds {
                gauge("orchestrator_backup_last_duration_seconds", "How long the newest verified backup of the profile took.", labels, seconds)
            }
            if let at = profile.drillFinishedAt {
                gauge("orchestrator_drill_last_success_timestamp_seconds", "When the newest passed restore drill of the profile finished (Unix time).",
                      labels, at.timeIntervalSince1970)
            }
            if let seconds = profile.drillRestoreSeconds {
                gauge("orchestrator_drill_restore_seconds", "Restore time (RTO) measured by the newest passed drill of the profile.", labels, seconds)
            }
            if let seconds = profile.drillBackupAgeSeconds {
                gauge("orchestrator_drill_backup_age_seconds", "Age of the snapshot the newest passed drill restored (RPO).", labels, seconds)
            }
        }

        for (severity, count) in try await OpenAlertCounts.load(on: connection).bySeverity.sorted(by: { $0.key < $1.key }) {
            gauge("orchestrator_alerts_open", "Alerts firing now, by severity.", [("severity", severity)], Double(count))
        }

        var newestSample: [String: Date] = [:]
        for sample in try await LatestHealthSample.load(on: connection) {
            newestSample[sample.host] = max(newestSample[sample.host] ?? sample.takenAt, sample.takenAt)
            guard let value = sample.value else { continue }
            gauge("orchestrator_health_value", "The newest health sample of each metric, by host and subject (units as the metric name says).",
                  [("metric", sample.metric), ("subject", sample.subject), ("host", sample.host)], value)
        }
        for (host, takenAt) in newestSample.sorted(by: { $0.key < $1.key }) {
            gauge("orchestrator_health_sample_age_seconds", "Seconds since the host's newest health sampling run.", [("host", host)],
                  max(0, now.timeIntervalSince(takenAt)))
        }
        return RunDurationHistogram.text(queue.durations)
    }
}
