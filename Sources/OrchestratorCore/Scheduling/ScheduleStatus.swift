import Foundation
import PostgresClient

/// A configured schedule with its last occurrence (from the database) and its next one.
public struct ScheduleStatus: Sendable, Codable, Equatable {
    public let name: String
    public let cron: String
    public let timeZone: String
    public let kind: String
    public let target: String?
    public let enabled: Bool
    public let lastScheduledFor: Date?
    public let lastOutcome: String?
    public let lastJobID: Int64?
    public let lastJobState: JobState?
    public let nextRun: Date?

    public static func load(configuration: Configuration, on connection: PostgresConnection, now: Date = Date()) async throws -> [ScheduleStatus] {
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
