import Foundation
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Scheduling
@testable import Settings
import Testing

/// After an outage of any length only the newest occurrence runs; the ones before it are one
/// `missed` row, and deciding them costs a step per day, not per occurrence.
@Suite("Scheduler catch-up after long outages")
struct SchedulerCatchUpTests {
    static let configuration = Configuration(schedules: [
        ScheduleDefinition(name: "minutely", cron: "* * * * *", timeZone: "UTC", kind: "noop", args: ["ms": "1"]),
    ])

    private func scheduler(_ harness: Harness) -> Scheduler {
        Scheduler(configuration: harness.configuration, registry: JobKindRegistry.standard, identity: WorkerIdentity(), logger: Harness.logger)
    }

    @Test(arguments: [9 * 60, 30 * 24 * 60])
    func onlyTheNewestOccurrenceRunsAfterAnOutage(minutesDown: Int) async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let scheduler = scheduler(harness)
            try await scheduler.sync(on: connection)
            // The last occurrence decided was `minutesDown` ago (default window: 6 hours).
            let since = try #require(try await connection.query(
                """
                UPDATE orchestrator.schedules SET last_scheduled_for = date_trunc('minute', now()) - make_interval(mins => $1)
                RETURNING last_scheduled_for
                """,
                [minutesDown]
            ).first).decode("last_scheduled_for", as: Date.self)
            let report = try await scheduler.tick(on: connection)

            #expect(report.enqueued.count == 1)
            #expect(report.examined <= 40)  // a step per day of the outage, not one per minute
            let jobID = try #require(report.enqueued.first)
            let job = try #require(try await JobQueue.job(id: jobID, on: connection))
            let newest = try #require(job.scheduledFor)
            #expect(abs(newest.timeIntervalSinceNow) < 120)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs", on: connection) == 1)

            // Two rows: the newest, run; one missed range holding every occurrence before it.
            let rows = try await connection.query(
                "SELECT outcome, occurrences, scheduled_for, last_occurrence, job_id FROM orchestrator.schedule_occurrences ORDER BY scheduled_for"
            )
            #expect(rows.rows.count == 2)
            let missed = try #require(rows.rows.first), run = try #require(rows.rows.last)
            let between = Int(newest.timeIntervalSince(since)) / 60 - 1
            #expect(between >= minutesDown - 1)
            #expect(missed["outcome"] == "missed" && Int(missed["occurrences"] ?? "") == between && report.missed == between)
            #expect(try missed.decode("scheduled_for", as: Date.self) == since.addingTimeInterval(60))
            #expect(try missed.decode("last_occurrence", as: Date.self) == newest.addingTimeInterval(-60))
            #expect(run["outcome"] == "on_time" && run["occurrences"] == "1" && run["job_id"] == "\(job.id)")
            #expect(try run.decode("scheduled_for", as: Date.self) == newest)

            // Later ticks enqueue nothing until the next occurrence, then just that one.
            let quiet = try await scheduler.tick(on: connection, now: newest.addingTimeInterval(59))
            #expect(quiet.enqueued.isEmpty && quiet.missed == 0 && quiet.examined <= 2)
            let next = try await scheduler.tick(on: connection, now: newest.addingTimeInterval(65))
            #expect(next.enqueued.count == 1 && next.late.isEmpty && next.missed == 0)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.schedule_occurrences", on: connection) == 3)
        }
    }
}
