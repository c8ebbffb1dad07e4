import Foundation
import PostgresClient
@testable import Queue
@testable import Settings
import Testing

@Suite("Queue semantics")
struct QueueTests {
    @Test func claimsByPriorityThenRunAtThenId() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let low = try await harness.enqueue(priority: 0, on: connection)
            let high = try await harness.enqueue(priority: 10, on: connection)
            let future = try await harness.enqueue(priority: 100, runAt: Date().addingTimeInterval(3600), on: connection)
            let lowSecond = try await harness.enqueue(priority: 0, on: connection)
            let worker = WorkerIdentity()
            var order: [Int64] = []
            while let job = try await JobQueue.claim(on: connection, worker: worker, queues: ["default"], leaseSeconds: 30) {
                order.append(job.id)
                #expect(job.attempt == 1)
            }
            #expect(order == [high, low, lowSecond])
            #expect(try await harness.state(of: future, on: connection) == "queued")
            let runs = try await harness.count("SELECT count(*) AS n FROM orchestrator.job_runs WHERE status = 'running'", on: connection)
            #expect(runs == 3)
        }
    }

    @Test func aUniqueKeyReturnsTheExistingJob() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let first = try await harness.enqueue(uniqueKey: "nightly", on: connection)
            let second = try await harness.enqueue(uniqueKey: "nightly", on: connection)
            #expect(first == second)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs", on: connection) == 1)
            // Once the first job finished, the key is free again.
            try await connection.query("UPDATE orchestrator.jobs SET state = 'succeeded', finished_at = now() WHERE id = $1", [first])
            let third = try await harness.enqueue(uniqueKey: "nightly", on: connection)
            #expect(third != first)
        }
    }

    @Test func jobsSharingAConcurrencyKeyNeverOverlap() async throws {
        try await Harness.with { base in
            // Each job records, while it runs, how many keyed jobs are running: always itself only.
            let configuration = Configuration(
                databases: ["app": TargetDatabase(dbname: base.database.name)],
                statements: ["probe": NamedStatement(database: "app", sql: """
                    WITH seen AS (
                        INSERT INTO probe (running)
                        SELECT count(*) FROM orchestrator.jobs WHERE state = 'running' AND concurrency_key IS NOT NULL
                        RETURNING 1
                    )
                    SELECT pg_sleep(0.2) FROM seen
                    """)]
            )
            let harness = Harness(database: base.database, connector: base.connector, configuration: configuration)
            let connection = try await harness.connect()
            defer { connection.close() }
            try await connection.execute("CREATE TABLE probe (running bigint NOT NULL)")
            var ids: [Int64] = []
            for _ in 0..<6 { ids.append(try await harness.enqueue(kind: "sql", target: "probe", on: connection)) }
            let job = try #require(try await JobQueue.job(id: ids[0], on: connection))
            #expect(job.concurrencyKey == "db:\(base.database.name)")
            try await running(harness.worker(concurrency: 4)) {
                try await expectEventually(timeout: .seconds(30)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE state = 'succeeded'", on: connection) == 6
                }
            }
            #expect(try await harness.count("SELECT count(*) AS n FROM probe", on: connection) == 6)
            #expect(try await harness.count("SELECT count(*) AS n FROM probe WHERE running <> 1", on: connection) == 0)
        }
    }

    @Test func aFailedAttemptIsRetriedWithBackoffAndRecorded() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(["fail_attempts": "2"], on: connection)
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(20)) { try await harness.state(of: id, on: connection) == "succeeded" }
            }
            let runs = try await JobQueue.runs(jobID: id, on: connection)
            #expect(runs.map(\.status) == [.failed, .failed, .succeeded])
            #expect(runs.map(\.attempt) == [1, 2, 3])
            #expect(runs[0].error == "noop told to fail (attempt 1)")
            #expect(runs[2].result == .object(["slept_ms": .int(0)]))
            #expect(runs.allSatisfy { $0.logTail?.contains("job started") == true })
            // Each retry waited at least half the backoff ceiling after the failure.
            #expect(runs[1].startedAt.timeIntervalSince(runs[0].finishedAt!) >= 0.05)
        }
    }

    @Test func aPermanentFailureIsNotRetried() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let permanent = try await harness.enqueue(["fail": "true", "permanent": "true"], on: connection)
            let exhausted = try await harness.enqueue(["fail": "true"], on: connection)
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(20)) {
                    let first = try await harness.state(of: permanent, on: connection)
                    let second = try await harness.state(of: exhausted, on: connection)
                    return first == "failed" && second == "failed"
                }
            }
            #expect(try await JobQueue.runs(jobID: permanent, on: connection).map(\.status) == [.failed])
            #expect(try await JobQueue.runs(jobID: exhausted, on: connection).map(\.status) == [.failed, .failed, .failed])
        }
    }

    @Test func aMissingDatabaseFailsAtOnce() async throws {
        let configuration = Configuration(
            databases: ["gone": TargetDatabase(dbname: "no_such_database_here")],
            statements: ["probe": NamedStatement(database: "gone", sql: "SELECT 1")]
        )
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(kind: "sql", target: "probe", on: connection)
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(20)) { try await harness.state(of: id, on: connection) == "failed" }
            }
            let runs = try await JobQueue.runs(jobID: id, on: connection)
            #expect(runs.count == 1)
            #expect(runs.first?.error?.contains("does not exist") == true)
        }
    }

    @Test func closedRunsCannotBeRewritten() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(on: connection)
            try await running(harness.worker(drain: true)) {
                try await expectEventually(timeout: .seconds(20)) { try await harness.state(of: id, on: connection) == "succeeded" }
            }
            let error = await #expect(throws: PostgresError.self) {
                try await connection.query("UPDATE orchestrator.job_runs SET status = 'failed' WHERE job_id = $1", [id])
            }
            #expect(error?.sqlState == "55000")
        }
    }

    @Test func cancellingAQueuedJobMeansItNeverRuns() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(runAt: Date().addingTimeInterval(60), on: connection)
            #expect(try await JobQueue.cancel(id: id, on: connection) == .cancelled)
            #expect(try await JobQueue.cancel(id: id, on: connection) == .alreadyFinished(state: .cancelled))
            #expect(try await JobQueue.cancel(id: 999_999, on: connection) == .notFound)
            #expect(try await JobQueue.runs(jobID: id, on: connection).isEmpty)
            #expect(try await JobQueue.retry(id: id, on: connection) == .requeued)
            #expect(try await harness.state(of: id, on: connection) == "queued")
        }
    }

    @Test func cancellingARunningJobStopsItWithinSeconds() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(["ms": "60000"], on: connection)
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(10)) { try await harness.state(of: id, on: connection) == "running" }
                let requested = ContinuousClock.now
                #expect(try await JobQueue.cancel(id: id, on: connection) == .requested)
                try await expectEventually(timeout: .seconds(5)) { try await harness.state(of: id, on: connection) == "cancelled" }
                #expect(ContinuousClock.now - requested < .seconds(5))
            }
            #expect(try await JobQueue.runs(jobID: id, on: connection).map(\.status) == [.cancelled])
        }
    }

    @Test func cancellingARunningStatementCancelsItOnTheServer() async throws {
        let configuration = Configuration(
            databases: ["app": TargetDatabase(dbname: "postgres")],
            statements: ["long": NamedStatement(database: "app", sql: "SELECT pg_sleep(60)")]
        )
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(kind: "sql", target: "long", on: connection)
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(10)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.job_runs WHERE job_id = $1 AND backend_pid IS NOT NULL", [id], on: connection) == 1
                }
                _ = try await JobQueue.cancel(id: id, on: connection)
                try await expectEventually(timeout: .seconds(5)) { try await harness.state(of: id, on: connection) == "cancelled" }
            }
            let backend = try #require(try await JobQueue.runs(jobID: id, on: connection).first?.backendPID)
            let stillSleeping = try await harness.count(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep%'", [backend], on: connection
            )
            #expect(stillSleeping == 0)
        }
    }

    @Test func aTimedOutJobIsRecordedAndRetried() async throws {
        try await Harness.with(configuration: Configuration(kinds: ["noop": KindSettings(maxAttempts: 2, timeoutSeconds: 1)])) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(["ms": "30000"], on: connection)
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(20)) { try await harness.state(of: id, on: connection) == "failed" }
            }
            let runs = try await JobQueue.runs(jobID: id, on: connection)
            #expect(runs.map(\.status) == [.timedOut, .timedOut])
            #expect(runs.first?.error == "timed out after 1 s")
        }
    }
}
