import Cron
import Foundation
import PostgresClient
import Queue
import Settings
import Support

/// Alerts about the orchestrator itself, judged from its own tables at `now`:
///
/// * `job_failed` — per kind and target: the newest job that failed after its last attempt
///   within `window_hours`, unless a later job of the same kind and target succeeded;
/// * `schedule_overdue` — per enabled schedule: its newest occurrence due `grace_minutes` ago
///   was not enqueued, was missed, or its job has not started;
/// * `worker_heartbeat` — per host: no worker alive for `after_minutes`, and at least one did
///   not stop cleanly (a clean `systemctl stop` is not an alert);
/// * `backup_stale`, `drill_stale` — per backup profile: the newest verified backup or passed
///   drill is older than allowed, or there is none;
/// * `copy_stale` — per profile and repository of its `copy_to:`: the newest verified off-site
///   copy holds a backup older than allowed, or there is none (`BuiltinAlertEvaluator+Copies.swift`);
/// * `wal_archive_behind`, `wal_archive_failing`, `wal_archive_gap` — from the newest health
///   samples (`BuiltinAlertEvaluator+WALArchive.swift`);
/// * `wal_stream_stopped`, `wal_slot_retained`, `wal_spool_behind` — the same, for the WAL
///   receiver, replication slots and the spools (`BuiltinAlertEvaluator+WALStream.swift`).
package struct BuiltinAlertEvaluator: Sendable {
    let configuration: Configuration

    package init(configuration: Configuration) {
        self.configuration = configuration
    }

    var settings: BuiltinAlertSettings { configuration.alerts.builtin }

    package func evaluate(now: Date, on connection: PostgresConnection) async throws -> AlertEvaluation {
        var evaluation = AlertEvaluation(scope: .builtin)
        if settings.jobFailed.enabled { evaluation.conditions += try await failedJobs(now: now, on: connection) }
        if settings.scheduleOverdue.enabled { evaluation.conditions += try await overdueSchedules(now: now, on: connection) }
        if settings.workerHeartbeat.enabled { evaluation.conditions += try await staleWorkers(now: now, on: connection) }
        if settings.backupStale.enabled || settings.drillStale.enabled { evaluation.conditions += try await staleBackups(now: now, on: connection) }
        if settings.copyStale.enabled { evaluation.conditions += try await staleCopies(now: now, on: connection) }
        let wal = try await walArchive(now: now, on: connection)
        evaluation.conditions += wal.conditions
        evaluation.undecided.formUnion(wal.undecided)
        let stream = try await walStream(now: now, on: connection)
        evaluation.conditions += stream.conditions
        evaluation.undecided.formUnion(stream.undecided)
        return evaluation
    }

    func failedJobs(now: Date, on connection: PostgresConnection) async throws -> [AlertCondition] {
        let rule = settings.jobFailed
        let hours = rule.limit ?? 24
        let rows = try await connection.query(
            """
            SELECT DISTINCT ON (f.kind, coalesce(f.target, ''))
                   f.id, f.kind, f.target, f.finished_at, f.attempts, f.last_error,
                   count(*) OVER (PARTITION BY f.kind, coalesce(f.target, '')) AS failures,
                   (SELECT r.host FROM orchestrator.job_runs r WHERE r.job_id = f.id ORDER BY r.id DESC LIMIT 1) AS host
            FROM orchestrator.jobs f
            WHERE f.state = 'failed' AND f.finished_at > $1::timestamptz - make_interval(hours => $2::int)
              AND NOT EXISTS (
                    SELECT 1 FROM orchestrator.jobs s
                    WHERE s.kind = f.kind AND s.target IS NOT DISTINCT FROM f.target AND s.state = 'succeeded'
                      AND s.created_at >= f.created_at AND s.finished_at > f.finished_at)
            ORDER BY f.kind, coalesce(f.target, ''), f.finished_at DESC, f.id DESC
            """,
            [now, hours]
        )
        return try rows.rows.map { row in
            let kind: String = try row.decode("kind")
            let target: String? = try row.decodeIfPresent("target")
            let id: Int64 = try row.decode("id")
            let attempts: Int = try row.decode("attempts")
            let failures: Int = try row.decode("failures")
            let error: String = try row.decodeIfPresent("last_error") ?? "no error recorded"
            let subject = target.map { "\(kind) \($0)" } ?? kind
            var details: [String: JSONValue] = [
                "job_id": .int(id), "kind": .string(kind), "attempts": .int(Int64(attempts)), "failures": .int(Int64(failures)),
                "error": .string(String(error.prefix(500))), "window_hours": .int(Int64(hours)),
            ]
            if let target { details["target"] = .string(target) }
            if let host: String = try row.decodeIfPresent("host") { details["last_host"] = .string(host) }
            let finished: Date = try row.decode("finished_at")
            let plural = attempts == 1 ? "attempt" : "attempts"
            return AlertCondition(
                rule: "job_failed", source: .builtin, subject: subject, host: "", severity: rule.severity, value: Double(failures),
                threshold: nil, summary: "Job \(id) (\(subject)) failed after \(attempts) \(plural): \(AlertMessageText.line(error, limit: 200))",
                details: details, firstSeenAt: finished
            )
        }
    }

    func overdueSchedules(now: Date, on connection: PostgresConnection) async throws -> [AlertCondition] {
        let rule = settings.scheduleOverdue
        let grace = TimeInterval((rule.limit ?? 15) * 60)
        var conditions: [AlertCondition] = []
        for schedule in configuration.schedules where schedule.enabled {
            guard let cron = try? CronExpression(schedule.cron), let zone = TimeZone(identifier: schedule.timeZone),
                  let due = cron.previous(atOrBefore: now.addingTimeInterval(-grace), in: zone) else { continue }
            // A schedule no scheduler has seen yet, or added after the occurrence, is not late.
            guard let synced = try await connection.query(
                "SELECT first_seen_at FROM orchestrator.schedules WHERE name = $1", [schedule.name]
            ).first, try synced.decode("first_seen_at", as: Date.self) <= due else { continue }
            let newest = try await connection.query(
                """
                SELECT o.scheduled_for, o.outcome, o.job_id, j.state, j.started_at
                FROM orchestrator.schedule_occurrences o LEFT JOIN orchestrator.jobs j ON j.id = o.job_id
                WHERE o.schedule_name = $1 AND o.scheduled_for >= $2
                ORDER BY o.scheduled_for DESC LIMIT 1
                """,
                [schedule.name, due]
            ).first
            let problem: String?
            if let newest {
                let outcome: String = try newest.decode("outcome")
                let state: JobState? = try newest.decodeIfPresent("state")
                let jobID: Int64? = try newest.decodeIfPresent("job_id")
                if outcome == "missed" {
                    problem = "its occurrence was missed (later than the catch-up window) and did not run"
                } else if jobID == nil {
                    problem = "its occurrence was recorded without a job (the scheduled job is invalid, or was deleted)"
                } else if state == .queued {
                    problem = "job \(jobID ?? 0) is still queued: no worker serves its queue"
                } else {
                    problem = nil
                }
            } else {
                problem = "no scheduler enqueued it (are workers running with the scheduler enabled?)"
            }
            guard let problem else { continue }
            let minutes = Int(now.timeIntervalSince(due) / 60)
            conditions.append(AlertCondition(
                rule: "schedule_overdue", source: .builtin, subject: schedule.name, host: "", severity: rule.severity,
                value: Double(minutes), threshold: grace / 60,
                summary: "Schedule \(schedule.name) is overdue: due \(AlertMessageText.minutes(minutes)) ago, \(problem)",
                details: ["cron": .string(schedule.cron), "time_zone": .string(schedule.timeZone), "kind": .string(schedule.kind),
                          "due": .string(AlertMessageText.iso(due))],
                firstSeenAt: due
            ))
        }
        return conditions
    }

    func staleWorkers(now: Date, on connection: PostgresConnection) async throws -> [AlertCondition] {
        let rule = settings.workerHeartbeat
        let minutes = rule.limit ?? 10
        let rows = try await connection.query(
            """
            SELECT host, max(heartbeat_at) AS last_heartbeat, string_agg(id, ', ' ORDER BY id) AS workers
            FROM orchestrator.workers
            WHERE stopped_at IS NULL
            GROUP BY host
            HAVING max(heartbeat_at) <= $1::timestamptz - make_interval(mins => $2::int)
            ORDER BY host
            """,
            [now, minutes]
        )
        return try rows.rows.map { row in
            let host: String = try row.decode("host")
            let last: Date = try row.decode("last_heartbeat")
            let silent = Int(now.timeIntervalSince(last) / 60)
            return AlertCondition(
                rule: "worker_heartbeat", source: .builtin, subject: "", host: host, severity: rule.severity,
                value: Double(silent), threshold: Double(minutes),
                summary: "No worker heartbeat from \(host) for \(AlertMessageText.minutes(silent)) (limit \(minutes) min)",
                details: ["workers": .string(try row.decode("workers")), "last_heartbeat": .string(AlertMessageText.iso(last))],
                firstSeenAt: min(now, last.addingTimeInterval(TimeInterval(minutes * 60)))
            )
        }
    }

    func staleBackups(now: Date, on connection: PostgresConnection) async throws -> [AlertCondition] {
        let backups = configuration.backups
        let backupHours = settings.backupStale.limit ?? backups.warnAfterHours
        let drillDays = settings.drillStale.limit ?? backups.drillWarnAfterDays
        var conditions: [AlertCondition] = []
        for profile in backups.profiles.keys.sorted() {
            let row = try await connection.query(
                "SELECT newest_verified_at, newest_drill_at FROM orchestrator.latest_backups WHERE profile = $1", [profile]
            ).first
            let verified: Date? = try row?.decodeIfPresent("newest_verified_at")
            let drilled: Date? = try row?.decodeIfPresent("newest_drill_at")
            if settings.backupStale.enabled {
                let limit = TimeInterval(backupHours * 3600)
                if verified.map({ now.timeIntervalSince($0) > limit }) ?? true {
                    let age = verified.map { Int(now.timeIntervalSince($0) / 3600) }
                    conditions.append(AlertCondition(
                        rule: "backup_stale", source: .builtin, subject: profile, host: "", severity: settings.backupStale.severity,
                        value: age.map(Double.init), threshold: Double(backupHours),
                        summary: age.map { "Newest verified backup of \(profile) is \($0) h old (limit \(backupHours) h)" }
                            ?? "Profile \(profile) has no verified backup",
                        details: verified.map { ["newest_verified_at": .string(AlertMessageText.iso($0))] } ?? [:],
                        firstSeenAt: verified.map { $0.addingTimeInterval(limit) }.map { min($0, now) } ?? now
                    ))
                }
            }
            if settings.drillStale.enabled {
                let limit = TimeInterval(drillDays * 86_400)
                if drilled.map({ now.timeIntervalSince($0) > limit }) ?? true {
                    let age = drilled.map { Int(now.timeIntervalSince($0) / 86_400) }
                    conditions.append(AlertCondition(
                        rule: "drill_stale", source: .builtin, subject: profile, host: "", severity: settings.drillStale.severity,
                        value: age.map(Double.init), threshold: Double(drillDays),
                        summary: age.map { "Newest passed restore drill of \(profile) is \($0) days old (limit \(drillDays) days)" }
                            ?? "Profile \(profile) has never passed a restore drill",
                        details: drilled.map { ["newest_drill_at": .string(AlertMessageText.iso($0))] } ?? [:],
                        firstSeenAt: drilled.map { $0.addingTimeInterval(limit) }.map { min($0, now) } ?? now
                    ))
                }
            }
        }
        return conditions
    }
}
