import Cron
import Foundation
import PostgresClient
import Queue
import Settings

/// A configured schedule with its last occurrence (from the database) and its next one.
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

    package static func load(configuration: Configuration, on connection: PostgresConnection, now: Date = Date()) async throws -> [ScheduleStatus] {
        var result: [ScheduleStatus] = []
        for schedule in configuration.schedules {
            let last = try await connection.query(
                """
                SELECT o.scheduled_for, o.outcome, o.job_id, j.state
                FROM orchestrator.schedule_occurrences o
                LEFT JOIN orchestrator.jobs j ON j.id = o.job_id
                WHERE o.schedule_name = $1
                ORDER BY o.scheduled_for DESC LIMIT 1
                """,
                [schedule.name]
            ).first
            let next: Date?
            if let cron = try? CronExpression(schedule.cron), let zone = TimeZone(identifier: schedule.timeZone) {
                next = cron.next(after: now, in: zone)
            } else {
                next = nil
            }
            result.append(ScheduleStatus(
                name: schedule.name, cron: schedule.cron, timeZone: schedule.timeZone, kind: schedule.kind,
                target: schedule.target, enabled: schedule.enabled,
                lastScheduledFor: try last?.decodeIfPresent("scheduled_for"),
                lastOutcome: try last?.decodeIfPresent("outcome"),
                lastJobID: try last?.decodeIfPresent("job_id"),
                lastJobState: try last?.decodeIfPresent("state"),
                nextRun: next
            ))
        }
        return result
    }
}
