import Cron
import Foundation
import Logging
import PostgresClient
import Queue
import Settings

extension Scheduler {
    /// Decides the occurrences since the schedule was last advanced, in one step whatever the
    /// length of the outage: only the newest occurrence at or before now may run (if it is inside
    /// the catch-up window); the older ones are counted, not walked, and recorded as one `missed`
    /// row spanning them.
    func advance(_ schedule: ScheduleDefinition, now nowOverride: Date?, on tx: PostgresConnection) async throws -> TickReport {
        var report = TickReport()
        let locked = try await tx.query(
            """
            SELECT coalesce(last_scheduled_for, first_seen_at) AS since, coalesce($2::timestamptz, now()) AS now
            FROM orchestrator.schedules WHERE name = $1 FOR UPDATE
            """,
            [schedule.name, nowOverride]
        )
        guard let row = locked.first else { return report }
        let since: Date = try row.decode("since")
        let now: Date = try row.decode("now")
        guard let cron = try? CronExpression(schedule.cron), let zone = TimeZone(identifier: schedule.timeZone) else {
            logger.error("schedule has an invalid cron or time zone; skipped", metadata: ["schedule": "\(schedule.name)"])
            return report
        }
        report.examined += 1
        guard let newest = cron.previous(atOrBefore: now, in: zone), newest > since else { return report }

        let older = cron.tally(after: since, before: newest, in: zone)
        report.examined += older.daysExamined
        if older.count > 0, let first = cron.next(after: since, in: zone),
           let last = cron.previous(atOrBefore: newest.addingTimeInterval(-1), in: zone) {
            report.examined += 2
            report.missed += try await recordMissed(schedule, from: first, through: last, count: older.count, on: tx)
        }

        let lateness = now.timeIntervalSince(newest)
        if lateness <= TimeInterval(catchUp(schedule)) {
            let outcome = lateness <= Self.onTimeTolerance ? "on_time" : "late"
            if let id = try await enqueue(schedule, scheduledFor: newest, outcome: outcome, on: tx) {
                report.enqueued.append(id)
                if outcome == "late" { report.late.append(id) }
            }
        } else {
            report.missed += try await recordMissed(schedule, from: newest, through: newest, count: 1, on: tx)
        }
        try await tx.query("UPDATE orchestrator.schedules SET last_scheduled_for = $2 WHERE name = $1", [schedule.name, newest])
        if report.missed > 0 {
            logger.warning("schedule occurrences missed (outside the catch-up window, or older than the newest); recorded, not run", metadata: [
                "schedule": "\(schedule.name)", "missed": "\(report.missed)",
            ])
        }
        return report
    }

    /// One `missed` row for `count` occurrences from `first` through `last`; returns how many
    /// occurrences it recorded (0 if another scheduler already had).
    private func recordMissed(_ schedule: ScheduleDefinition, from first: Date, through last: Date, count: Int, on tx: PostgresConnection) async throws -> Int {
        let inserted = try await tx.query(
            """
            INSERT INTO orchestrator.schedule_occurrences (schedule_name, scheduled_for, outcome, recorded_by, occurrences, last_occurrence)
            VALUES ($1, $2, 'missed', $3, $4, $5) ON CONFLICT DO NOTHING RETURNING occurrences
            """,
            [schedule.name, first, identity.id, count, count > 1 ? last : nil]
        )
        return inserted.rows.isEmpty ? 0 : count
    }

    private func enqueue(_ schedule: ScheduleDefinition, scheduledFor: Date, outcome: String, on tx: PostgresConnection) async throws -> Int64? {
        let claimed = try await tx.query(
            """
            INSERT INTO orchestrator.schedule_occurrences (schedule_name, scheduled_for, outcome, recorded_by)
            VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING scheduled_for
            """,
            [schedule.name, scheduledFor, outcome, identity.id]
        )
        guard !claimed.rows.isEmpty else { return nil }
        var prepared: PreparedJob
        do {
            prepared = try registry.prepare(
                JobRequest(
                    kind: schedule.kind, target: schedule.target, arguments: schedule.args, queue: schedule.queue,
                    priority: schedule.priority ?? 0, enqueuedBy: "schedule:\(schedule.name)"
                ),
                configuration: configuration, hostName: identity.host
            )
        } catch {
            logger.error("scheduled job is invalid; occurrence recorded without a job", metadata: ["schedule": "\(schedule.name)", "error": "\(error)"])
            return nil
        }
        prepared.scheduleName = schedule.name
        prepared.scheduledFor = scheduledFor
        let job = try await JobQueue.enqueue(prepared, on: tx)
        try await tx.query(
            "UPDATE orchestrator.schedule_occurrences SET job_id = $3 WHERE schedule_name = $1 AND scheduled_for = $2",
            [schedule.name, scheduledFor, job.id]
        )
        logger.info("scheduled job enqueued", metadata: [
            "schedule": "\(schedule.name)", "job.id": "\(job.id)", "schedule.outcome": "\(outcome)",
        ])
        return job.id
    }
}
