import Foundation
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Scheduling
@testable import Settings
import Testing

/// The scheduler ticking through the DST changes in Berlin: both passes of 02:00 are separate
/// occurrences for an hourly schedule and a fixed 02:30 runs once; in the skipped hour the fixed
/// 02:30 runs at 03:00 and `30 * * * *` has no 02:30.
@Suite("Scheduler at DST changes")
struct SchedulerDaylightSavingTests {
    static let configuration = Configuration(schedules: [
        ScheduleDefinition(name: "hourly", cron: "0 * * * *", timeZone: "Europe/Berlin", kind: "noop", args: ["ms": "1"]),
        ScheduleDefinition(name: "nightly", cron: "30 2 * * *", timeZone: "Europe/Berlin", kind: "noop", args: ["ms": "1"]),
    ])

    static func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    /// Ticks every 10 minutes (30 s past) from `start` to `end`; returns the occurrences missed.
    static func tick(_ scheduler: Scheduler, from start: Date, to end: Date, on connection: PostgresConnection) async throws -> Int {
        var tick = start.addingTimeInterval(30)
        var missed = 0
        while tick < end {
            missed += try await scheduler.tick(on: connection, now: tick).missed
            tick = tick.addingTimeInterval(600)
        }
        return missed
    }

    static func scheduledFor(_ schedule: String, on connection: PostgresConnection) async throws -> [Date] {
        try await connection.query(
            "SELECT scheduled_for FROM orchestrator.jobs WHERE schedule_name = $1 ORDER BY scheduled_for", [schedule]
        ).rows.map { try $0.decode("scheduled_for", as: Date.self) }
    }

    @Test func theRepeatedHourRunsTwiceHourlyAndOnceAtAFixedTime() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let scheduler = Scheduler(configuration: harness.configuration, registry: JobKindRegistry.standard, identity: WorkerIdentity(), logger: Harness.logger)
            try await scheduler.sync(on: connection)
            // Decided up to 23:00 CEST on the 24th; tick every 10 minutes through the 25th (25 hours).
            let dayStart = Self.date("2026-10-24T22:00:00Z"), dayEnd = Self.date("2026-10-25T23:00:00Z")
            try await connection.query("UPDATE orchestrator.schedules SET last_scheduled_for = $1", [Self.date("2026-10-24T21:00:00Z")])
            #expect(try await Self.tick(scheduler, from: dayStart, to: dayEnd, on: connection) == 0)
            let hourly = try await Self.scheduledFor("hourly", on: connection)
            #expect(hourly.count == 25)
            #expect(hourly.contains(Self.date("2026-10-25T00:00:00Z")) && hourly.contains(Self.date("2026-10-25T01:00:00Z")))
            #expect(try await Self.scheduledFor("nightly", on: connection) == [Self.date("2026-10-25T00:30:00Z")])
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.schedule_occurrences WHERE outcome = 'on_time' AND job_id IS NOT NULL", on: connection
            ) == 26)
        }
    }

    @Test func theSkippedHourRunsAFixedTimeRightAfterItAndNoClockFollowingMinutes() async throws {
        let configuration = Configuration(schedules: [
            ScheduleDefinition(name: "half-past", cron: "30 * * * *", timeZone: "Europe/Berlin", kind: "noop", args: ["ms": "1"]),
            ScheduleDefinition(name: "nightly", cron: "30 2 * * *", timeZone: "Europe/Berlin", kind: "noop", args: ["ms": "1"]),
        ])
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let scheduler = Scheduler(configuration: configuration, registry: JobKindRegistry.standard, identity: WorkerIdentity(), logger: Harness.logger)
            try await scheduler.sync(on: connection)
            // 2026-03-29 in Berlin has 23 hours: 02:00-03:00 does not exist (01:00Z is 03:00 CEST).
            let dayStart = Self.date("2026-03-28T23:00:00Z"), dayEnd = Self.date("2026-03-29T22:00:00Z")
            try await connection.query("UPDATE orchestrator.schedules SET last_scheduled_for = $1", [dayStart])
            #expect(try await Self.tick(scheduler, from: dayStart, to: dayEnd, on: connection) == 0)
            let halfPast = try await Self.scheduledFor("half-past", on: connection)
            #expect(halfPast.count == 23)
            #expect(!halfPast.contains(Self.date("2026-03-29T01:00:00Z")))
            #expect(try await Self.scheduledFor("nightly", on: connection) == [Self.date("2026-03-29T01:00:00Z")])
        }
    }
}
