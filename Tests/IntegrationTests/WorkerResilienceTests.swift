import Foundation
import PostgresClient
@testable import Queue
@testable import Runtime
import TestSupport
import Testing

@Suite("Worker resilience", .serialized)
struct WorkerResilienceTests {
    @Test func twoWorkersRacingOver2000JobsRunEachExactlyOnce() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await connection.query(
                """
                INSERT INTO orchestrator.jobs (kind, args, queue, max_attempts, timeout_seconds, enqueued_by)
                SELECT 'noop', '{}'::jsonb, 'default', 3, 60, 'tests' FROM generate_series(1, 2000)
                """
            )
            let first = harness.worker(concurrency: 4, drain: true)
            let second = harness.worker(concurrency: 4, drain: true)
            async let a: Void = first.run()
            async let b: Void = second.run()
            _ = try await (a, b)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE state = 'succeeded'", on: connection) == 2000)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.job_runs", on: connection) == 2000)
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM (SELECT job_id FROM orchestrator.job_runs GROUP BY job_id HAVING count(*) > 1) twice", on: connection
            ) == 0)
            // Both workers took part.
            #expect(try await harness.count("SELECT count(DISTINCT worker_id) AS n FROM orchestrator.job_runs", on: connection) == 2)
        }
    }

    /// A server restart while the worker starts breaks the session that registers it; the
    /// worker must wait for the server and start, not exit. A trigger ends the first
    /// registration's session mid-statement, as the restart does.
    @Test func aWorkerWhoseRegistrationLosesItsConnectionStartsAnyway() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await connection.execute(
                """
                CREATE SEQUENCE registration_attempts;
                CREATE FUNCTION end_first_registration() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('registration_attempts') = 1 THEN
                        PERFORM pg_terminate_backend(pg_backend_pid());
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER end_first_registration BEFORE INSERT ON orchestrator.workers
                    FOR EACH ROW EXECUTE FUNCTION end_first_registration();
                """
            )
            let id = try await harness.enqueue(["ms": "10"], on: connection)
            try await running(harness.worker(concurrency: 1)) {
                try await expectEventually(timeout: .seconds(30)) { try await harness.state(of: id, on: connection) == "succeeded" }
            }
            #expect(try await harness.count("SELECT last_value AS n FROM registration_attempts", on: connection) == 2)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.workers", on: connection) == 1)
        }
    }

    @Test func aWorkerKilledWithSIGKILLLosesNoJob() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(["ms": "3000"], on: connection)
            let configFile = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrator-kill-\(UUID().uuidString).yaml")
            try """
                worker:
                  concurrency: 1
                  lease_seconds: 5
                  heartbeat_seconds: 1
                  reaper_seconds: 1
                  poll_seconds: 1
                """.write(to: configFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: configFile) }

            let victim = Process()
            victim.executableURL = Harness.binary
            victim.arguments = ["worker", "--config", configFile.path, "--log-level", "error"]
            victim.environment = ProcessInfo.processInfo.environment.merging(["ORCHESTRATOR_DATABASE_URL": try harness.database.url]) { _, new in new }
            try victim.run()
            try await expectEventually(timeout: .seconds(20)) { try await harness.state(of: id, on: connection) == "running" }
            kill(victim.processIdentifier, SIGKILL)
            try await exited(victim)
            #expect(victim.terminationReason == .uncaughtSignal)

            let killedAt = ContinuousClock.now
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(30)) { try await harness.state(of: id, on: connection) == "succeeded" }
            }
            // Recovered within lease + reaper interval + the job's own 3 s.
            #expect(ContinuousClock.now - killedAt < .seconds(20))
            let runs = try await JobQueue.runs(jobID: id, on: connection)
            #expect(runs.map(\.status) == [.abandoned, .succeeded])
            #expect(runs.first?.pid == Int(victim.processIdentifier))
            #expect(runs.first?.error?.contains("lease expired") == true)
        }
    }

    @Test func shutdownLetsRunningJobsFinishWithinTheGracePeriod() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let quick = try await harness.enqueue(["ms": "500"], on: connection)
            let slow = try await harness.enqueue(["ms": "60000"], on: connection)
            let worker = harness.worker(concurrency: 2)
            let task = Task { try await worker.run() }
            try await expectEventually(timeout: .seconds(10)) {
                try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE state = 'running'", on: connection) == 2
            }
            worker.beginShutdown()
            let started = ContinuousClock.now
            try await task.value
            // Grace is 2 s: the quick job finished, the slow one was released without using an attempt.
            #expect(ContinuousClock.now - started < .seconds(6))
            #expect(try await harness.state(of: quick, on: connection) == "succeeded")
            let released = try #require(try await JobQueue.job(id: slow, on: connection))
            #expect(released.state == .queued)
            #expect(released.attempts == 0)
            // Released, not abandoned: history tells a graceful shutdown from a dead worker.
            #expect(try await JobQueue.runs(jobID: slow, on: connection).map(\.status) == [.released])
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.job_history WHERE job_id = $1 AND status = 'released'", [slow], on: connection
            ) == 1)
            let stopped = try await harness.count("SELECT count(*) AS n FROM orchestrator.workers WHERE stopped_at IS NOT NULL", on: connection)
            #expect(stopped == 1)
        }
    }

    static var restartCommand: String? { ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_RESTART_COMMAND"] }

    @Test(.enabled(if: restartCommand != nil, "needs ORCHESTRATOR_TEST_RESTART_COMMAND (set by scripts/test)"))
    func workContinuesAfterPostgreSQLRestartsUnderIdleAndBusyWorkers() async throws {
        try await Harness.with { harness in
            let worker = harness.worker(concurrency: 2)
            try await running(worker) {
                // Idle worker: the server restarts, then new work arrives.
                try await restartPostgreSQL()
                let connection = try await harness.connect()
                defer { connection.close() }
                let afterIdle = try await harness.enqueue(["ms": "10"], on: connection)
                try await expectEventually(timeout: .seconds(30)) { try await harness.state(of: afterIdle, on: connection) == "succeeded" }

                // Busy worker: the server restarts while jobs run.
                var busy: [Int64] = []
                for _ in 0..<10 { busy.append(try await harness.enqueue(["ms": "400"], on: connection)) }
                try await expectEventually(timeout: .seconds(10)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE state = 'running'", on: connection) > 0
                }
                try await restartPostgreSQL()
                let again = try await harness.connect()
                defer { again.close() }
                try await expectEventually(timeout: .seconds(60)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE id = ANY ($1::bigint[]) AND state = 'succeeded'",
                                            [busy.map(String.init)], on: again) == busy.count
                }
                // No job succeeded twice.
                #expect(try await harness.count(
                    "SELECT count(*) AS n FROM (SELECT job_id FROM orchestrator.job_runs WHERE status = 'succeeded' GROUP BY job_id HAVING count(*) > 1) d",
                    on: again
                ) == 0)
            }
        }
    }

    /// Runs the restart command through `system()` on a plain thread: the restarted server is a
    /// daemon that keeps inherited descriptors open, which confuses `Process`'s exit detection.
    private func restartPostgreSQL() async throws {
        let command = Self.restartCommand ?? "false"
        let status: Int32 = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: system(command + " >/dev/null 2>&1"))
            }
        }
        guard status == 0 else { throw TestEnvironmentError("restart command failed with status \(status)") }
    }
}
