@testable import Database
import Foundation
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// A worker whose every connection goes through a proxy that stops answering (packets
/// swallowed, connections hang; nothing is refused): the heartbeat keeps beating, running jobs
/// are stopped when their leases run out instead of running on unrenewed, a stop never waits for
/// the cancel request the server cannot receive, and once the server answers again the worker
/// reconnects and each job succeeds exactly once.
@Suite("Worker with an unreachable server", .serialized)
struct WorkerUnreachableServerTests {
    static let lease = Duration.seconds(6)
    static let settings = WorkerSettings(
        concurrency: 2, queues: ["default"], leaseSeconds: 6, heartbeatSeconds: 1, reaperSeconds: 1, pollSeconds: 1, shutdownGraceSeconds: 2
    )

    @Test func leasesRunOutOnTimeWhileTheServerDoesNotAnswerAndEachJobSucceedsOnceItIsBack() async throws {
        try await Harness.with { base in
            // The test's own session goes straight to the server, never through the proxy.
            let observer = try await base.connect()
            defer { observer.close() }
            // The statement sleeps a minute on its first run only: that run is stopped midway.
            try await observer.execute("CREATE SEQUENCE nap_runs")
            let configuration = Configuration(
                databases: ["app": TargetDatabase(dbname: base.database.name)],
                statements: ["nap": NamedStatement(database: "app", sql: "SELECT pg_sleep(CASE WHEN nextval('nap_runs') = 1 THEN 60 ELSE 0.2 END)")]
            )
            let harness = Harness(database: base.database, connector: base.connector, configuration: configuration)
            // Held connections stay held for the whole outage: a connect hangs, it is not refused.
            let proxy = try await TCPProxy.to(serverOf: observer, holdLimit: .seconds(300))
            defer { proxy.stop() }
            let log = CapturedLog()
            let worker = Worker(
                configuration: configuration,
                options: .init(
                    settings: Self.settings, scheduler: SchedulerSettings(enabled: false),
                    retryBackoff: Backoff(base: .milliseconds(100), cap: .milliseconds(400))
                ),
                connector: DatabaseConnector(orchestrator: proxy.route(base.database.configuration)), registry: .standard,
                logger: log.logger
            )
            // A job that only sleeps (its stop ends it at once) and one waiting on its statement
            // (its stop is a cancel request the server cannot receive).
            let sleeper = try await harness.enqueue(["ms": "20000"], on: observer)
            let statement = try await harness.enqueue(kind: "sql", target: "nap", on: observer)

            let ended = Locked(false)
            let service = Task {
                defer { ended.withLock { $0 = true } }
                try await worker.run()
            }
            defer { service.cancel() }
            try await expectEventually(timeout: .seconds(30)) {
                let sleeping = try await harness.count(
                    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'", on: observer
                )
                return try await harness.state(of: sleeper, on: observer) == "running" && sleeping == 1
                    && !log.times(of: "noop sleeping", with: "job.id=\(sleeper)").isEmpty
            }
            #expect(proxy.acceptedCount >= 6)  // control, reaper, listener, claims, outcomes, the statement's
            #expect(proxy.heldCount == 0)

            let silentAt = ContinuousClock.now
            proxy.goUnreachable()

            // Both leases run out about one lease after the last renewal that got through (at
            // most a beat before the outage): each job is stopped then, neither earlier nor late.
            let stop = "lease ran out without a renewal; stopping the job"
            try await expectEventually(timeout: Self.lease + .seconds(20)) {
                !log.times(of: stop, with: "job.id=\(sleeper)").isEmpty && !log.times(of: stop, with: "job.id=\(statement)").isEmpty
            }
            let stops = log.times(of: stop, with: "job.id=\(sleeper)") + log.times(of: stop, with: "job.id=\(statement)")
            try #require(stops.count == 2)  // once each, not again at every beat
            for stoppedAt in stops {
                #expect(stoppedAt - silentAt > Self.lease - .seconds(3))
                #expect(stoppedAt - silentAt < Self.lease + .seconds(6))
            }
            // The sleeper ends at once and is released, for its lost lease, while the server is still away.
            try await expectEventually(timeout: .seconds(10)) {
                !log.times(of: "job released", with: "job.id=\(sleeper)", "reason=lease").isEmpty
            }
            // The statement's stop sent a cancel request that hangs in the proxy (no session was
            // opened otherwise: every other one is stuck on its own statement).
            #expect(proxy.heldCount >= 1)

            // The heartbeat beats on, through the stops and the hanging cancel request.
            let lastStop = try #require(stops.max())
            try await expectEventually(timeout: .seconds(15)) {
                log.times(of: "lease renewal is waiting for the database").filter { $0 > lastStop }.count >= 4
            }
            let beats = log.times(of: "lease renewal is waiting for the database")
            let gaps = zip(beats.dropFirst(), beats).map { $0 - $1 }
            #expect(gaps.allSatisfy { $0 < .seconds(4) }, "heartbeat gaps: \(gaps)")
            #expect(try #require(beats.first) - silentAt < .seconds(4))
            #expect(proxy.swallowedCount > 0)
            #expect(ended.withLock { $0 } == false)

            proxy.speakAgain()
            let backAt = ContinuousClock.now

            // The worker reconnects on its own and the queue runs both jobs again, to success.
            try await expectEventually(timeout: .seconds(90)) {
                let states = [try await harness.state(of: sleeper, on: observer), try await harness.state(of: statement, on: observer)]
                return states == ["succeeded", "succeeded"]
            }
            let recovered = ContinuousClock.now - backAt
            // The statement ended once its session was cut, released for its lost lease too.
            #expect(log.times(of: "job released", with: "job.id=\(statement)", "reason=lease").count == 1)
            #expect(log.times(of: "job failed").isEmpty)
            var firstRuns: [RunStatus] = []
            for id in [sleeper, statement] {
                let runs = try await JobQueue.runs(jobID: id, on: observer)
                firstRuns += runs.prefix(1).map(\.status)
                #expect(runs.count == 2, "job \(id) runs: \(runs.map(\.status))")
                #expect(runs.filter { $0.status == .succeeded }.count == 1)
                #expect(runs.last?.status == .succeeded)
                // Released by this worker for the lost lease, or reaped: whichever wrote first.
                let first = try #require(runs.first)
                #expect([RunStatus.released, .abandoned].contains(first.status))
                if first.status == .released { #expect(first.error?.contains("lease lost") == true) }
            }
            #expect(!log.times(of: "listener reconnected").isEmpty)
            #expect(try await harness.count(
                "SELECT count(*)::int AS n FROM orchestrator.workers WHERE heartbeat_at > now() - interval '5 seconds'", on: observer
            ) == 1)

            // The service never ended on its own, and stops cleanly when asked.
            #expect(ended.withLock { $0 } == false)
            #expect(log.times(of: "worker stopped").isEmpty)
            worker.beginShutdown()
            try await expectEventually(timeout: .seconds(30)) { ended.withLock { $0 } }
            try await service.value
            #expect(try await harness.count("SELECT count(*)::int AS n FROM orchestrator.workers WHERE stopped_at IS NOT NULL", on: observer) == 1)
            Attachment.record(
                """
                jobs stopped \(stops.map { $0 - silentAt }) after the outage began
                \(beats.count) beats waited for the database, the longest gap \(gaps.max() ?? .zero)
                both jobs succeeded \(recovered) after the outage ended; their first runs ended \(firstRuns)
                """,
                named: "timings.txt"
            )
        }
    }
}
