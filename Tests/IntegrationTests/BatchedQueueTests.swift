import Foundation
import PostgresClient
@testable import Queue
import Testing

@Suite("Batched claims and outcomes")
struct BatchedQueueTests {
    /// Inserts jobs of the given kinds in this order (ascending ids), bypassing validation.
    private func insert(_ kinds: [String], concurrencyKey: String? = nil, on connection: PostgresConnection) async throws -> [Int64] {
        var ids: [Int64] = []
        for kind in kinds {
            let row = try await connection.query(
                "INSERT INTO orchestrator.jobs (kind, enqueued_by, concurrency_key) VALUES ($1, 'tests', $2) RETURNING id",
                [kind, concurrencyKey]
            ).first
            ids.append(try #require(row).decode("id"))
        }
        return ids
    }

    @Test func shortKindsAreClaimedAheadButLongKindsOnlyForIdleSlots() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let ids = try await insert(["noop", "backup", "noop", "noop", "backup", "noop"], on: connection)
            let worker = WorkerIdentity()
            let limits = JobQueue.ClaimLimits(anyKind: 1, shortAhead: 10, shortKinds: ["noop"])
            let first = try await JobQueue.claim(on: connection, worker: worker, queues: ["default"], leaseSeconds: 30, limits: limits)
            #expect(first.map(\.id) == [ids[0], ids[2], ids[3], ids[5]])
            #expect(Set(first.map(\.runID)).count == 4)
            // The long jobs wait for idle slots; both come in one claim when two are idle.
            let second = try await JobQueue.claim(
                on: connection, worker: worker, queues: ["default"], leaseSeconds: 30, limits: .init(anyKind: 2, shortAhead: 10, shortKinds: ["noop"])
            )
            #expect(second.map(\.id) == [ids[1], ids[4]])
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.job_runs WHERE status = 'running'", on: connection) == 6)
        }
    }

    @Test func aBatchNeverHoldsTwoJobsOfOneConcurrencyKey() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let keyed = try await insert(["noop", "noop", "noop"], concurrencyKey: "db:app", on: connection)
            let free = try await insert(["noop", "noop"], on: connection)
            let worker = WorkerIdentity()
            let claimed = try await JobQueue.claim(on: connection, worker: worker, queues: ["default"], leaseSeconds: 30, limits: .init(anyKind: 5))
            #expect(claimed.map(\.id) == [keyed[0]] + free)
            let again = try await JobQueue.claim(on: connection, worker: worker, queues: ["default"], leaseSeconds: 30, limits: .init(anyKind: 5))
            #expect(again.isEmpty, "the key is held by a running job")
        }
    }

    @Test func manyOutcomesAreRecordedTogetherButOnlyForJobsStillHeld() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            _ = try await insert(["noop", "noop", "noop"], on: connection)
            let worker = WorkerIdentity()
            let jobs = try await JobQueue.claim(on: connection, worker: worker, queues: ["default"], leaseSeconds: 30, limits: .init(anyKind: 3))
            try #require(jobs.count == 3)
            // The third job's lease was lost: another worker holds it now.
            try await connection.query("UPDATE orchestrator.jobs SET locked_by = 'someone-else' WHERE id = $1", [jobs[2].id])
            let startedBefore: Date = try #require(try await connection.query(
                "SELECT started_at FROM orchestrator.job_runs WHERE id = $1", [jobs[0].runID]
            ).first).decode("started_at")
            try await Task.sleep(for: .milliseconds(600))  // the first job "waited" 400 ms of these, then ran
            let recorded = try await JobQueue.finish([
                .init(job: jobs[0], outcome: .succeeded(result: ["n": .int(1)]), logTail: "done", startDelay: .milliseconds(400)),
                .init(job: jobs[1], outcome: .failed(error: "boom", retryAfter: .seconds(60)), logTail: nil),
                .init(job: jobs[2], outcome: .succeeded(result: [:]), logTail: nil),
            ], worker: worker, on: connection)
            #expect(recorded == [jobs[0].id, jobs[1].id])

            #expect(try await harness.state(of: jobs[0].id, on: connection) == "succeeded")
            #expect(try await harness.state(of: jobs[1].id, on: connection) == "queued")
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.jobs WHERE id = $1 AND run_at > now() + interval '50 seconds' AND last_error = 'boom'", [jobs[1].id], on: connection
            ) == 1)
            #expect(try await harness.state(of: jobs[2].id, on: connection) == "running")
            let first = try #require(try await connection.query(
                "SELECT status, result::text AS result, log_tail, started_at FROM orchestrator.job_runs WHERE id = $1", [jobs[0].runID]
            ).first)
            #expect(try first.decode("status", as: String.self) == "succeeded")
            #expect(try first.decode("result", as: String.self) == #"{"n": 1}"#)
            #expect(try first.decode("log_tail", as: String.self) == "done")
            // started_at tells when the job really began: after its wait on the worker (never
            // later than the outcome itself).
            let startedAfter: Date = try first.decode("started_at")
            #expect(abs(startedAfter.timeIntervalSince(startedBefore) - 0.4) < 0.01)
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.job_runs WHERE id = $1 AND status = 'failed' AND error = 'boom'", [jobs[1].runID], on: connection
            ) == 1)
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.job_runs WHERE id = $1 AND status = 'running'", [jobs[2].runID], on: connection
            ) == 1)
        }
    }

    @Test func anOutcomeForARunThatWasReapedIsNotRecordedEvenIfTheSameWorkerHoldsTheJobAgain() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            _ = try await insert(["noop"], on: connection)
            let worker = WorkerIdentity()
            let first = try #require(try await JobQueue.claim(on: connection, worker: worker, queues: ["default"], leaseSeconds: 30))
            // The lease ran out (say the database was unreachable); the reaper took the job back.
            try await connection.query("UPDATE orchestrator.jobs SET lease_until = now() - interval '1 second' WHERE id = $1", [first.id])
            #expect(try await JobQueue.reapExpiredLeases(on: connection).map(\.id) == [first.id])
            let second = try #require(try await JobQueue.claim(on: connection, worker: worker, queues: ["default"], leaseSeconds: 30))
            #expect(second.id == first.id)
            #expect(second.runID != first.runID)
            // The stale outcome of the first attempt changes nothing.
            let stale = try await JobQueue.finish([.init(job: first, outcome: .succeeded(result: [:]), logTail: nil)], worker: worker, on: connection)
            #expect(stale.isEmpty)
            #expect(try await harness.state(of: first.id, on: connection) == "running")
            let current = try await JobQueue.finish([.init(job: second, outcome: .succeeded(result: [:]), logTail: nil)], worker: worker, on: connection)
            #expect(current == [second.id])
            let statuses = try await JobQueue.runs(jobID: first.id, on: connection).map(\.status)
            #expect(statuses == [.abandoned, .succeeded])
        }
    }

    @Test func aJobCancelledWhileWaitingForASlotNeverStarts() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let busy = try await harness.enqueue(["ms": "1500"], on: connection)
            let waiting = try await harness.enqueue(on: connection)
            let after = try await harness.enqueue(on: connection)
            try await running(harness.worker(concurrency: 1)) {
                // One slot: the first job runs, the two short ones are claimed ahead of it.
                try await expectEventually(timeout: .seconds(10)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE state = 'running'", on: connection) == 3
                }
                #expect(try await harness.state(of: busy, on: connection) == "running")
                _ = try await JobQueue.cancel(id: waiting, on: connection)
                try await expectEventually(timeout: .seconds(10)) {
                    try await harness.state(of: after, on: connection) == "succeeded"
                }
            }
            #expect(try await harness.state(of: busy, on: connection) == "succeeded")
            #expect(try await harness.state(of: waiting, on: connection) == "cancelled")
            // It never started: a started job's log tail holds its "job started" line.
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.job_runs WHERE job_id = $1 AND status = 'cancelled' AND log_tail IS NULL", [waiting], on: connection
            ) == 1)
        }
    }

    @Test func shutdownReleasesJobsClaimedAheadWithoutUsingAnAttempt() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let busy = try await harness.enqueue(["ms": "300"], on: connection)
            var waiting: [Int64] = []
            for _ in 0..<3 { waiting.append(try await harness.enqueue(["ms": "300"], on: connection)) }
            let worker = harness.worker(concurrency: 1)
            let task = Task { try await worker.run() }
            try await expectEventually(timeout: .seconds(10)) {
                try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE state = 'running'", on: connection) == 4
            }
            worker.beginShutdown()
            try await task.value
            #expect(try await harness.state(of: busy, on: connection) == "succeeded")
            let released = try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.jobs WHERE id = ANY ($1::bigint[]) AND state = 'queued' AND attempts = 0",
                [waiting.map(String.init)], on: connection
            )
            #expect(released == 3)
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.job_runs WHERE job_id = ANY ($1::bigint[]) AND status = 'released' AND log_tail IS NULL",
                [waiting.map(String.init)], on: connection
            ) == 3)
        }
    }
}
