import Foundation
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Scheduling
@testable import Settings
import Testing

@Suite("Scheduler")
struct SchedulerTests {
    private func configuration(cron: String, catchUp: Int) -> Configuration {
        Configuration(schedules: [ScheduleDefinition(name: "tick", cron: cron, timeZone: "UTC", kind: "noop", args: ["ms": "1"], catchUpSeconds: catchUp)])
    }

    private func scheduler(_ harness: Harness) -> Scheduler {
        Scheduler(configuration: harness.configuration, registry: JobKindRegistry.standard, identity: WorkerIdentity(), logger: Harness.logger)
    }

    /// Pretends the schedule was last decided `minutes` ago.
    private func rewind(_ minutes: Int, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE orchestrator.schedules SET first_seen_at = now() - make_interval(mins => $1), last_scheduled_for = NULL", [minutes]
        )
    }

    @Test func threeSchedulersEnqueueEachOccurrenceOnce() async throws {
        try await Harness.with(configuration: configuration(cron: "* * * * *", catchUp: 3600)) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await scheduler(harness).sync(on: connection)
            try await rewind(5, on: connection)
            let reports = try await withThrowingTaskGroup(of: Scheduler.TickReport.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let own = try await harness.connect()
                        defer { own.close() }
                        return try await self.scheduler(harness).tick(on: own)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.flatMap(\.enqueued).count == 1)
            #expect(reports.map(\.missed).reduce(0, +) >= 4)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE schedule_name = 'tick'", on: connection) == 1)
            // The occurrences before the newest are one missed range, recorded once.
            let outcomes = try await harness.count(
                "SELECT coalesce(sum(occurrences), 0) AS n FROM orchestrator.schedule_occurrences WHERE outcome = 'missed'", on: connection
            )
            #expect(outcomes == reports.map(\.missed).reduce(0, +))
            // A second round finds nothing new to do.
            let again = try await scheduler(harness).tick(on: connection)
            #expect(again.enqueued.isEmpty || again.enqueued.count == 1)  // a new minute may have begun
            #expect(try await harness.count("SELECT count(*) AS n FROM (SELECT scheduled_for FROM orchestrator.jobs WHERE schedule_name = 'tick' GROUP BY 1 HAVING count(*) > 1) d", on: connection) == 0)
        }
    }

    @Test func aMissedOccurrenceInsideTheWindowRunsOnceAsLate() async throws {
        let twoHoursAgo = Date().addingTimeInterval(-7200)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let parts = utc.dateComponents([.hour, .minute], from: twoHoursAgo)
        let daily = "\(parts.minute!) \(parts.hour!) * * *"
        try await Harness.with(configuration: configuration(cron: daily, catchUp: 3 * 3600)) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await scheduler(harness).sync(on: connection)
            try await rewind(24 * 60 * 3, on: connection)
            let report = try await scheduler(harness).tick(on: connection)
            #expect(report.enqueued.count == 1)
            #expect(report.late == report.enqueued)
            #expect(report.missed == 2)  // the two earlier days are recorded, not run
            let job = try #require(try await JobQueue.job(id: report.enqueued[0], on: connection))
            #expect(job.enqueuedBy == "schedule:tick")
            #expect(abs(job.scheduledFor!.timeIntervalSince(twoHoursAgo)) < 60)
        }
    }

    @Test func anOccurrenceOlderThanTheWindowIsRecordedNotRun() async throws {
        let twoHoursAgo = Date().addingTimeInterval(-7200)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let parts = utc.dateComponents([.hour, .minute], from: twoHoursAgo)
        try await Harness.with(configuration: configuration(cron: "\(parts.minute!) \(parts.hour!) * * *", catchUp: 3600)) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await scheduler(harness).sync(on: connection)
            try await rewind(180, on: connection)
            let report = try await scheduler(harness).tick(on: connection)
            #expect(report.enqueued.isEmpty)
            #expect(report.missed == 1)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs", on: connection) == 0)
        }
    }

    @Test func aWorkerRunsTheSchedulerAndTheScheduledJob() async throws {
        try await Harness.with(configuration: configuration(cron: "* * * * *", catchUp: 3600)) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await scheduler(harness).sync(on: connection)
            try await rewind(2, on: connection)
            let worker = harness.worker(scheduler: SchedulerSettings(enabled: true, tickSeconds: 1, catchUpSeconds: 3600))
            try await running(worker) {
                try await expectEventually(timeout: .seconds(20)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE schedule_name = 'tick' AND state = 'succeeded'", on: connection) >= 1
                }
            }
        }
    }
}
