import Foundation
import Logging
import PostgresClient
import Queue
import Settings
import Support

/// Turns the configuration's schedules into jobs. Any number of workers may tick at once: each
/// schedule row is locked while its occurrences are decided, and the (schedule, scheduled_for)
/// primary key of `schedule_occurrences` makes each occurrence happen at most once. Occurrences
/// are instants, so the two passes of a repeated wall-clock hour are different occurrences.
package struct Scheduler: Sendable {
    let configuration: Configuration
    let registry: any JobPreparer
    let identity: WorkerIdentity
    let logger: Logger

    package init(configuration: Configuration, registry: any JobPreparer, identity: WorkerIdentity, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.identity = identity
        self.logger = logger
    }

    package struct TickReport: Sendable, Equatable {
        package var enqueued: [Int64] = []
        package var late: [Int64] = []
        /// Occurrences not run (outside the catch-up window, or older than the newest one).
        package var missed = 0
        /// Occurrences computed one by one plus days counted in bulk: bounded by the length of
        /// the outage in days, never by the number of occurrences it missed.
        package var examined = 0
    }

    /// An occurrence enqueued within this long of its time counts as on time.
    static let onTimeTolerance: TimeInterval = 120

    /// `now` replaces the database clock (tests decide occurrences at chosen instants).
    @discardableResult
    package func tick(on connection: PostgresConnection, now: Date? = nil) async throws -> TickReport {
        try await sync(on: connection)
        var report = TickReport()
        for schedule in configuration.schedules where schedule.enabled {
            let partial = try await connection.transaction { tx in
                try await self.advance(schedule, now: now, on: tx)
            }
            report.enqueued += partial.enqueued
            report.late += partial.late
            report.missed += partial.missed
            report.examined += partial.examined
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

    func catchUp(_ schedule: ScheduleDefinition) -> Int {
        schedule.catchUpSeconds ?? configuration.scheduler.catchUpSeconds
    }
}
