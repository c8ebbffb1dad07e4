import Foundation
import PostgresClient

extension JobQueue {
    /// Claims the best runnable job in `queues` and opens its run, in one statement.
    ///
    /// `FOR UPDATE SKIP LOCKED` lets workers claim concurrently without waiting on each other.
    /// A job whose concurrency key is held by a running job is skipped; if two workers still race
    /// for the same key, the unique index on running keys rejects the second claim, which then
    /// simply tries again.
    public static func claim(
        on connection: PostgresConnection, worker: WorkerIdentity, queues: [String], leaseSeconds: Int
    ) async throws -> ClaimedJob? {
        for _ in 0..<10 {
            do {
                let result = try await connection.query(
                    """
                    WITH next AS (
                        SELECT j.id
                        FROM orchestrator.jobs j
                        WHERE j.state = 'queued'
                          AND j.queue = ANY ($1::text[])
                          AND j.run_at <= now()
                          AND (j.concurrency_key IS NULL OR NOT EXISTS (
                                SELECT 1 FROM orchestrator.jobs r
                                WHERE r.state = 'running' AND r.concurrency_key = j.concurrency_key))
                        ORDER BY j.priority DESC, j.run_at, j.id
                        LIMIT 1
                        FOR UPDATE SKIP LOCKED
                    ), claimed AS (
                        UPDATE orchestrator.jobs j
                        SET state = 'running', attempts = j.attempts + 1, locked_by = $2,
                            lease_until = now() + make_interval(secs => $3), started_at = now(),
                            finished_at = NULL
                        FROM next
                        WHERE j.id = next.id
                        RETURNING j.*
                    ), run AS (
                        INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid)
                        SELECT id, attempts, $2, $4, $5 FROM claimed
                        RETURNING id AS run_id, job_id
                    )
                    SELECT claimed.id, run.run_id, claimed.kind, claimed.target, claimed.args::text AS args,
                           claimed.queue, claimed.attempts, claimed.max_attempts, claimed.timeout_seconds,
                           claimed.concurrency_key
                    FROM claimed JOIN run ON run.job_id = claimed.id
                    """,
                    [queues, worker.id, leaseSeconds, worker.host, Int(worker.pid)]
                )
                guard let row = result.first else { return nil }
                return try ClaimedJob(row: row)
            } catch let error as PostgresError where error.isUniqueViolation {
                continue  // lost a race for a concurrency key; the next candidate may be free
            }
        }
        return nil
    }

    /// When the earliest queued job in `queues` becomes runnable, to sleep until then.
    public static func nextRunAt(on connection: PostgresConnection, queues: [String]) async throws -> Date? {
        let result = try await connection.query(
            "SELECT min(run_at) AS next FROM orchestrator.jobs WHERE state = 'queued' AND queue = ANY ($1::text[])",
            [queues]
        )
        return try result.first?.decodeIfPresent("next", as: Date.self)
    }
}
