import Logging
import Maintenance
import PostgresClient
import Settings

/// Deletes the orchestrator's own old records as `history:` says, each table through the
/// retention kind's `BatchedDeleter` (short keyset batches, then ANALYZE), and rolls deleted job
/// runs up into `job_daily` in the same statements, so reports over pruned days keep their figures.
///
/// Never deleted: queued or running jobs, the newest finished job per kind and target, jobs
/// referenced by a backup, verification or drill of a backup that still exists, the newest
/// occurrence of each schedule, firing alerts and their deliveries, and the verifications and
/// drills of existing backups.
package struct HistoryRetention: Sendable {
    package struct Report: Sendable, Equatable, Encodable {
        /// Rows deleted per table (cascaded job runs and alert deliveries included).
        package var deleted: [String: Int64] = [:]
        package var batches = 0
        package var milliseconds = 0.0
    }

    let settings: HistorySettings
    let logger: Logger

    package init(settings: HistorySettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// A finished job may go when a newer finished job of its kind and target exists and no
    /// record of a backup that still exists references it (a deleted backup frees its jobs).
    static let deletableJob = """
        EXISTS (SELECT 1 FROM orchestrator.jobs newer
                WHERE newer.kind = jobs.kind AND coalesce(newer.target, '') = coalesce(jobs.target, '')
                  AND newer.finished_at > jobs.finished_at)
        AND NOT EXISTS (SELECT 1 FROM orchestrator.backups b WHERE b.job_id = jobs.id AND b.deleted_at IS NULL)
        AND NOT EXISTS (SELECT 1 FROM orchestrator.backup_verifications v JOIN orchestrator.backups b ON b.id = v.backup_id
                        WHERE v.job_id = jobs.id AND b.deleted_at IS NULL)
        AND NOT EXISTS (SELECT 1 FROM orchestrator.restore_drills d JOIN orchestrator.backups b ON b.id = d.backup_id
                        WHERE d.job_id = jobs.id AND b.deleted_at IS NULL)
        """

    struct Step {
        let label: String
        let table: String
        let column: String
        let keepDays: Int
        let condition: String
        var companion: DeleteCompanion? = nil
        /// Where the companion's count goes (rows deleted by cascade).
        var companionLabel: String? = nil
    }

    var steps: [Step] {
        let deletedBackup = { (table: String) in
            "EXISTS (SELECT 1 FROM orchestrator.backups b WHERE b.id = \(table).backup_id AND b.deleted_at IS NOT NULL)"
        }
        return [
            Step(label: "backup_verifications", table: "orchestrator.backup_verifications", column: "finished_at",
                 keepDays: settings.keepBackupRecordsDays, condition: deletedBackup("backup_verifications")),
            Step(label: "restore_drills", table: "orchestrator.restore_drills", column: "finished_at",
                 keepDays: settings.keepBackupRecordsDays, condition: deletedBackup("restore_drills")),
            Step(label: "schedule_occurrences", table: "orchestrator.schedule_occurrences", column: "scheduled_for",
                 keepDays: settings.keepOccurrencesDays,
                 condition: """
                 EXISTS (SELECT 1 FROM orchestrator.schedule_occurrences newer
                         WHERE newer.schedule_name = schedule_occurrences.schedule_name
                           AND newer.scheduled_for > schedule_occurrences.scheduled_for)
                 """),
            Step(label: "alert_deliveries", table: "orchestrator.alert_deliveries", column: "sent_at",
                 keepDays: settings.keepDeliveriesDays,
                 condition: "EXISTS (SELECT 1 FROM orchestrator.alerts a WHERE a.id = alert_deliveries.alert_id AND a.state = 'resolved')"),
            Step(label: "alerts", table: "orchestrator.alerts", column: "resolved_at", keepDays: settings.keepAlertsDays,
                 condition: "state = 'resolved'",
                 companion: DeleteCompanion(
                     ctes: "gone_deliveries AS (SELECT 1 FROM orchestrator.alert_deliveries x JOIN gone g ON g.id = x.alert_id)",
                     counted: "SELECT count(*) FROM gone_deliveries"
                 ),
                 companionLabel: "alert_deliveries"),
            Step(label: "jobs", table: "orchestrator.jobs", column: "finished_at", keepDays: settings.keepSucceededDays,
                 condition: "state = 'succeeded' AND \(Self.deletableJob)", companion: JobRollup.companion, companionLabel: "job_runs"),
            Step(label: "jobs", table: "orchestrator.jobs", column: "finished_at", keepDays: settings.keepFailedDays,
                 condition: "state IN ('failed', 'cancelled') AND \(Self.deletableJob)", companion: JobRollup.companion, companionLabel: "job_runs"),
        ]
    }

    /// Runs every step on the orchestrator's database; cancelling stops after the current batch.
    package func apply(on connection: PostgresConnection) async throws -> Report {
        var report = Report()
        for label in ["jobs", "job_runs", "schedule_occurrences", "alerts", "alert_deliveries", "backup_verifications", "restore_drills"] {
            report.deleted[label] = 0
        }
        let started = ContinuousClock.now
        for step in steps {
            try Task.checkCancellation()
            let policy = RetentionDeletePolicy(
                database: "orchestrator", table: step.table, column: step.column, keepDays: step.keepDays,
                targetBatchMs: settings.targetBatchMs, condition: step.condition
            )
            let deleter = BatchedDeleter(policy: policy, logger: logger, companion: step.companion)
            let result = try await deleter.run(on: connection, dryRun: false)
            report.deleted[step.label, default: 0] += result.rows
            if let label = step.companionLabel { report.deleted[label, default: 0] += result.companionRows }
            report.batches += result.batches
            logger.debug("history pruned", metadata: [
                "history.table": "\(step.label)", "history.rows": "\(result.rows)", "history.walk": "\(result.walk)",
            ])
        }
        report.milliseconds = (ContinuousClock.now - started).seconds * 1000
        return report
    }
}
