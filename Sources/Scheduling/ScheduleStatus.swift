import Cron
import Foundation
import PostgresClient
import Queue
import Settings

/// A configured schedule with its last occurrence (from the database), its next one, how many
/// occurrences of the last 30 days ran late or not at all, and whether one is overdue now.
package struct ScheduleStatus: Sendable, Codable, Equatable {
    package let name: String
    package let cron: String
    package let timeZone: String
    package let kind: String
    package let target: String?
    package let enabled: Bool
    package let lastScheduledFor: Date?
    package let lastOutcome: String?
    package let lastJobID: Int64?
    package let lastJobState: JobState?
    package let nextRun: Date?
    /// Occurrences of the last `recentDays` days enqueued late (caught up) and not run at all.
    package let recentLate: Int
    package let recentMissed: Int
    /// The newest occurrence that was late or missed (the end of a missed range).
    package let lastIrregular: Date?
    /// An occurrence that is due and that no scheduler has decided: no worker is ticking, or
    /// every one is stuck. Nil while the schedule is on track or disabled.
    package let overdueSince: Date?

    package static let recentDays = 30

    /// How long after its time an occurrence may still be undecided without counting as overdue:
    /// a scheduler decides it on its next tick, and one tick may be lost to a restart.
    package static func overdueGrace(_ configuration: Configuration) -> TimeInterval {
        TimeInterval(2 * configuration.scheduler.tickSeconds) + Scheduler.onTimeTolerance
    }

    package static func load(configuration: Configuration, on connection: PostgresConnection, now: Date = Date()) async throws -> [ScheduleStatus] {
        var result: [ScheduleStatus] = []
        let recentSince = now.addingTimeInterval(-TimeInterval(recentDays) * 86_400)
        for schedule in configuration.schedules {
            let row = try await connection.query(
                """
                SELECT last.scheduled_for, last.outcome, last.job_id, last.state, s.first_seen_at,
                       recent.late, recent.missed, recent.last_irregular
                FROM (
                    SELECT coalesce(sum(occurrences) FILTER (WHERE outcome = 'late'), 0)::int AS late,
                           coalesce(sum(occurrences) FILTER (WHERE outcome = 'missed'), 0)::int AS missed,
                           max(coalesce(last_occurrence, scheduled_for)) FILTER (WHERE outcome <> 'on_time') AS last_irregular
                    FROM orchestrator.schedule_occurrences
                    WHERE schedule_name = $1 AND coalesce(last_occurrence, scheduled_for) >= $2
                ) recent
                LEFT JOIN LATERAL (
                    SELECT o.scheduled_for, o.outcome, o.job_id, j.state
                    FROM orchestrator.schedule_occurrences o
                    LEFT JOIN orchestrator.jobs j ON j.id = o.job_id
                    WHERE o.schedule_name = $1
                    ORDER BY o.scheduled_for DESC LIMIT 1
                ) last ON true
                LEFT JOIN orchestrator.schedules s ON s.name = $1
                """,
                [schedule.name, recentSince]
            ).first
            let cron = try? CronExpression(schedule.cron)
            let zone = TimeZone(identifier: schedule.timeZone)
            let lastScheduledFor: Date? = try row?.decodeIfPresent("scheduled_for")
            let firstSeen: Date? = try row?.decodeIfPresent("first_seen_at")
            var overdue: Date?
            if schedule.enabled, let cron, let zone, let reference = lastScheduledFor ?? firstSeen,
               let due = cron.next(after: reference, in: zone), now.timeIntervalSince(due) > overdueGrace(configuration) {
                overdue = due
            }
            result.append(ScheduleStatus(
                name: schedule.name, cron: schedule.cron, timeZone: schedule.timeZone, kind: schedule.kind,
                target: schedule.target, enabled: schedule.enabled,
                lastScheduledFor: lastScheduledFor,
                lastOutcome: try row?.decodeIfPresent("outcome"),
                lastJobID: try row?.decodeIfPresent("job_id"),
                lastJobState: try row?.decodeIfPresent("state"),
                nextRun: cron.flatMap { cron in zone.flatMap { cron.next(after: now, in: $0) } },
                recentLate: try row?.decodeIfPresent("late") ?? 0,
                recentMissed: try row?.decodeIfPresent("missed") ?? 0,
                lastIrregular: try row?.decodeIfPresent("last_irregular"),
                overdueSince: overdue
            ))
        }
        return result
    }
}
