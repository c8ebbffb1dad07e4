import Foundation
import Logging
import PostgresClient

/// Turns the configuration's schedules into jobs. Any number of workers may tick at once: each
/// schedule row is locked while its occurrences are decided, and the (schedule, scheduled_for)
/// primary key of `schedule_occurrences` makes each occurrence happen at most once.
public struct Scheduler: Sendable {
    let configuration: Configuration
    let registry: JobKindRegistry
    let identity: WorkerIdentity
    let logger: Logger

    public init(configuration: Configuration, registry: JobKindRegistry, identity: WorkerIdentity, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.identity = identity
        self.logger = logger
    }

    public struct TickReport: Sendable, Equatable {
        public var enqueued: [Int64] = []
        public var late: [Int64] = []
        public var missed = 0
    }

    /// An occurrence enqueued within this long of its time counts as on time.
    static let onTimeTolerance: TimeInterval = 120

    @discardableResult
    public func tick(on connection: PostgresConnection) async throws -> TickReport {
        try await sync(on: connection)
        var report = TickReport()
        for schedule in configuration.schedules where schedule.enabled {
            let partial = try await connection.transaction { tx in
                try await self.advance(schedule, on: tx)
            }
            report.enqueued += partial.enqueued
            report.late += partial.late
            report.missed += partial.missed
        }
        return report
    }

    /// Writes the configured schedules to `schedules` so SQL and `orchestrator schedules` see them.
    func sync(on connection: PostgresConnection) async throws {
        for schedule in configuration.schedules {
            try await connection.query(
                """
                INSERT INTO orchestrator.schedules (name, cron, time_zone, kind, target, args, queue, enabled, catch_up_seconds)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
                ON CONFLICT (name) DO UPDATE
                SET cron = excluded.cron, time_zone = excluded.time_zone, kind = excluded.kind, target = excluded.target,
                    args = excluded.args, queue = excluded.queue, enabled = excluded.enabled,
                    catch_up_seconds = excluded.catch_up_seconds, updated_at = now()
                WHERE (schedules.cron, schedules.time_zone, schedules.kind, schedules.target, schedules.args,
                       schedules.queue, schedules.enabled, schedules.catch_up_seconds)
                      IS DISTINCT FROM
                      (excluded.cron, excluded.time_zone, excluded.kind, excluded.target, excluded.args,
                       excluded.queue, excluded.enabled, excluded.catch_up_seconds)
                """,
                [
                    schedule.name, schedule.cron, schedule.timeZone, schedule.kind, schedule.target,
                    JSONValue.object(schedule.args.mapValues { .string($0) }).jsonText, schedule.queue ?? "default",
                    schedule.enabled, catchUp(schedule),
                ]
            )
        }
    }

    private func catchUp(_ schedule: ScheduleDefinition) -> Int {
        schedule.catchUpSeconds ?? configuration.scheduler.catchUpSeconds
    }

    /// Decides every occurrence since the schedule was last advanced. Only the newest one inside
    /// the catch-up window runs; older ones are recorded as missed so the history shows them.
    private func advance(_ schedule: ScheduleDefinition, on tx: PostgresConnection) async throws -> TickReport {
        var report = TickReport()
        let locked = try await tx.query(
            """
            SELECT coalesce(last_scheduled_for, first_seen_at) AS since, now() AS now
            FROM orchestrator.schedules WHERE name = $1 FOR UPDATE
            """,
            [schedule.name]
        )
        guard let row = locked.first else { return report }
        let since: Date = try row.decode("since")
        let now: Date = try row.decode("now")
        guard let cron = try? CronExpression(schedule.cron), let zone = TimeZone(identifier: schedule.timeZone) else {
            logger.error("schedule has an invalid cron or time zone; skipped", metadata: ["schedule": "\(schedule.name)"])
            return report
        }
        // Bound the work after a very long outage; the rest is decided on later ticks.
        let occurrences = cron.occurrences(after: since, through: now, in: zone, limit: 500)
        guard let newest = occurrences.last else { return report }
        let window = TimeInterval(catchUp(schedule))
        for occurrence in occurrences {
            let lateness = now.timeIntervalSince(occurrence)
            if occurrence == newest && lateness <= window {
                let outcome = lateness <= Self.onTimeTolerance ? "on_time" : "late"
                if let id = try await enqueue(schedule, scheduledFor: occurrence, outcome: outcome, on: tx) {
                    report.enqueued.append(id)
                    if outcome == "late" { report.late.append(id) }
                }
            } else {
                let inserted = try await tx.query(
                    """
                    INSERT INTO orchestrator.schedule_occurrences (schedule_name, scheduled_for, outcome, recorded_by)
                    VALUES ($1, $2, 'missed', $3) ON CONFLICT DO NOTHING RETURNING scheduled_for
                    """,
                    [schedule.name, occurrence, identity.id]
                )
                report.missed += inserted.rows.count
            }
        }
        try await tx.query("UPDATE orchestrator.schedules SET last_scheduled_for = $2 WHERE name = $1", [schedule.name, newest])
        if report.missed > 0 {
            logger.warning("schedule occurrences missed (outside the catch-up window); recorded, not run", metadata: [
                "schedule": "\(schedule.name)", "missed": "\(report.missed)",
            ])
        }
        return report
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
