import Foundation
@testable import OrchestratorCore
import PostgresClient
import Testing

/// The scheduler ticking through the autumn change in Berlin: both passes of 02:00 are separate
/// occurrences for an hourly schedule; a fixed 02:30 runs once.
@Suite("Scheduler at DST changes")
struct SchedulerDaylightSavingTests {
    static let configuration = Configuration(schedules: [
        ScheduleDefinition(name: "hourly", cron: "0 * * * *", timeZone: "Europe/Berlin", kind: "noop", args: ["ms": "1"]),
        ScheduleDefinition(name: "nightly", cron: "30 2 * * *", timeZone: "Europe/Berlin", kind: "noop", args: ["ms": "1"]),
    ])

    static func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func theRepeatedHourRunsTwiceHourlyAndOnceAtAFixedTime() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let scheduler = Scheduler(configuration: harness.configuration, registry: .standard, identity: WorkerIdentity(), logger: Harness.logger)
            try await scheduler.sync(on: connection)
            // Decided up to 23:00 CEST on the 24th; tick every 10 minutes through the 25th (25 hours).
            let dayStart = Self.date("2026-10-24T22:00:00Z"), dayEnd = Self.date("2026-10-25T23:00:00Z")
            try await connection.query("UPDATE orchestrator.schedules SET last_scheduled_for = $1", [Self.date("2026-10-24T21:00:00Z")])
            var tick = dayStart.addingTimeInterval(30)
            var missed = 0
            while tick < dayEnd {
                missed += try await scheduler.tick(on: connection, now: tick).missed
                tick = tick.addingTimeInterval(600)
            }
            #expect(missed == 0)
            let hourly = try await connection.query(
                "SELECT scheduled_for FROM orchestrator.jobs WHERE schedule_name = 'hourly' ORDER BY scheduled_for"
            ).rows.map { try $0.decode("scheduled_for", as: Date.self) }
            #expect(hourly.count == 25)
            #expect(hourly.contains(Self.date("2026-10-25T00:00:00Z")) && hourly.contains(Self.date("2026-10-25T01:00:00Z")))
            let nightly = try await connection.query(
                "SELECT scheduled_for FROM orchestrator.jobs WHERE schedule_name = 'nightly'"
            ).rows.map { try $0.decode("scheduled_for", as: Date.self) }
            #expect(nightly == [Self.date("2026-10-25T00:30:00Z")])
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.schedule_occurrences WHERE outcome = 'on_time' AND job_id IS NOT NULL", on: connection
            ) == 26)
        }
    }
}
