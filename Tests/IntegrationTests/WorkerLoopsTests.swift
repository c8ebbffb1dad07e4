import Foundation
import PostgresClient
@testable import Queue
@testable import Runtime
import ServiceLifecycle
@testable import Settings
import TestSupport
import Testing

/// The heartbeat, the reaper and the scheduler run on loops and connections of their own: a
/// scheduler tick stuck on a lock must not stop lease renewal, and shutdown stops the scheduler
/// first while leases are still renewed.
@Suite("Worker loops", .serialized)
struct WorkerLoopsTests {
    /// A schedule that never comes due: the tick only syncs it, which needs `schedules`.
    static let configuration = Configuration(schedules: [
        ScheduleDefinition(name: "yearly", cron: "0 0 1 1 *", timeZone: "UTC", kind: "noop", args: ["ms": "1"])
    ])

    /// A lease shorter than the time the tick stays stuck, renewed every second.
    static func settings(grace: Int) -> WorkerSettings {
        WorkerSettings(
            concurrency: 1, queues: ["default"], leaseSeconds: 3, heartbeatSeconds: 1, reaperSeconds: 1, pollSeconds: 1, shutdownGraceSeconds: grace
        )
    }

    static let ticking = SchedulerSettings(enabled: true, tickSeconds: 1, catchUpSeconds: 3600)

    @Test func aSchedulerTickStuckOnALockDoesNotStopLeaseRenewal() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let locker = try await harness.connect()
            defer { locker.close() }
            try await locker.execute("BEGIN; LOCK TABLE orchestrator.schedules IN ACCESS EXCLUSIVE MODE")
            let id = try await harness.enqueue(["ms": "12000"], on: connection)
            let worker = harness.worker(concurrency: 1, settings: Self.settings(grace: 2), scheduler: Self.ticking)
            try await running(worker) {
                try await expectEventually(timeout: .seconds(20)) {
                    let state = try await harness.state(of: id, on: connection)
                    let waiting = try await waitingOnSchedules(connection)
                    return state == "running" && waiting == 1
                }
                // Another worker's reaper, run for three leases while the tick stays stuck.
                var reaped: [JobQueue.ReapedJob] = []
                let until = ContinuousClock.now + .seconds(9)
                while ContinuousClock.now < until {
                    reaped += try await JobQueue.reapExpiredLeases(on: connection)
                    try await Task.sleep(for: .milliseconds(250))
                }
                #expect(reaped.isEmpty)
                #expect(try await waitingOnSchedules(connection) == 1)
                #expect(try await harness.count(
                    "SELECT count(*) AS n FROM orchestrator.workers WHERE heartbeat_at > now() - interval '3 seconds'", on: connection
                ) == 1)
                try await locker.execute("COMMIT")
                // The tick goes on once the lock is gone, and the job ends as the one run it had.
                try await expectEventually(timeout: .seconds(10)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.schedules WHERE name = 'yearly'", on: connection) == 1
                }
                try await expectEventually(timeout: .seconds(20)) { try await harness.state(of: id, on: connection) == "succeeded" }
            }
            #expect(try await JobQueue.runs(jobID: id, on: connection).map(\.status) == [.succeeded])
        }
    }

    @Test func shutdownStopsTheSchedulerFirstAndRenewsLeasesUntilRunningJobsFinish() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let locker = try await harness.connect()
            defer { locker.close() }
            try await locker.execute("BEGIN; LOCK TABLE orchestrator.schedules IN ACCESS EXCLUSIVE MODE")
            let id = try await harness.enqueue(["ms": "8000"], on: connection)
            let worker = harness.worker(concurrency: 1, settings: Self.settings(grace: 60), scheduler: Self.ticking)
            let task = Task { try await worker.run() }
            try await expectEventually(timeout: .seconds(20)) {
                let state = try await harness.state(of: id, on: connection)
                    let waiting = try await waitingOnSchedules(connection)
                    return state == "running" && waiting == 1
            }
            worker.beginShutdown()
            // The stuck tick is cancelled at once, while the job still runs.
            try await expectEventually(timeout: .seconds(3)) { try await waitingOnSchedules(connection) == 0 }
            #expect(try await harness.state(of: id, on: connection) == "running")
            // The job outlives its lease several times over; the heartbeat keeps it.
            var reaped: [JobQueue.ReapedJob] = []
            while try await harness.state(of: id, on: connection) == "running" {
                reaped += try await JobQueue.reapExpiredLeases(on: connection)
                try await Task.sleep(for: .milliseconds(250))
            }
            try await task.value
            try await locker.execute("COMMIT")
            #expect(reaped.isEmpty)
            #expect(try await harness.state(of: id, on: connection) == "succeeded")
            #expect(try await JobQueue.runs(jobID: id, on: connection).map(\.status) == [.succeeded])
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.workers WHERE stopped_at IS NOT NULL", on: connection) == 1)
            // Stopped before it ever got through: nothing was synced.
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.schedules", on: connection) == 0)
        }
    }

    /// As `orchestrator worker` runs it: the worker is a service of an enclosing service group
    /// whose shutdown (SIGTERM) the worker's own group follows in its order, so a running job
    /// finishes within the grace period instead of being cancelled.
    @Test func theEnclosingServiceGroupsShutdownLetsARunningJobFinish() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(["ms": "3000"], on: connection)
            let worker = harness.worker(concurrency: 1, settings: Self.settings(grace: 60))
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)], logger: Harness.logger
            ))
            let task = Task { try await group.run() }
            try await expectEventually(timeout: .seconds(20)) { try await harness.state(of: id, on: connection) == "running" }
            await group.triggerGracefulShutdown()
            try await task.value
            #expect(try await harness.state(of: id, on: connection) == "succeeded")
            #expect(try await JobQueue.runs(jobID: id, on: connection).map(\.status) == [.succeeded])
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.workers WHERE stopped_at IS NOT NULL", on: connection) == 1)
        }
    }
}

/// Sessions of this database waiting for a lock on `orchestrator.schedules`.
private func waitingOnSchedules(_ connection: PostgresConnection) async throws -> Int {
    try await connection.query(
        """
        SELECT count(*)::int AS n FROM pg_locks
        WHERE NOT granted AND relation = 'orchestrator.schedules'::regclass
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
    ).first!.decode("n")
}
