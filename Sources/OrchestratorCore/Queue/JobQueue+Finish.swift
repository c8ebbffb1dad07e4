import Foundation
import PostgresClient

extension JobQueue {
    /// Closes the run and moves the job on, atomically. Only the worker holding the job may do
    /// this: if the lease was lost (the reaper took the job), nothing is changed and false is returned.
    @discardableResult
    public static func finish(
        _ job: ClaimedJob, outcome: JobOutcome, logTail: String?, worker: WorkerIdentity, on connection: PostgresConnection
    ) async throws -> Bool {
        let result: String?
        let error: String?
        let jobState: String
        let retryAfterSeconds: Double?
        switch outcome {
        case .succeeded(let value):
            (result, error, jobState, retryAfterSeconds) = (value.jsonText, nil, "succeeded", nil)
        case .failed(let message, let retry), .timedOut(let message, let retry):
            (result, error) = (nil, message)
            jobState = retry == nil ? "failed" : "queued"
            retryAfterSeconds = retry?.seconds
        case .cancelled:
            (result, error, jobState, retryAfterSeconds) = (nil, "cancelled on request", "cancelled", nil)
        case .released(let reason):
            (result, error, jobState, retryAfterSeconds) = (nil, reason, "queued", 0)
        }
        let released: Bool
        if case .released = outcome { released = true } else { released = false }

        let updated = try await connection.query(
            """
            WITH job AS (
                UPDATE orchestrator.jobs
                SET state = $3,
                    lease_until = NULL,
                    locked_by = NULL,
                    run_at = CASE WHEN $3 = 'queued' THEN now() + make_interval(secs => $4) ELSE run_at END,
                    finished_at = CASE WHEN $3 = 'queued' THEN NULL ELSE now() END,
                    attempts = CASE WHEN $5 THEN greatest(attempts - 1, 0) ELSE attempts END,
                    last_error = coalesce($7, last_error)
                WHERE id = $1 AND state = 'running' AND locked_by = $2
                RETURNING id
            )
            UPDATE orchestrator.job_runs
            SET status = $6, finished_at = now(), result = $8::jsonb, error = $7, log_tail = $9
            WHERE id = $10 AND status = 'running' AND EXISTS (SELECT 1 FROM job)
            RETURNING id
            """,
            [job.id, worker.id, jobState, retryAfterSeconds ?? 0, released, outcome.runStatus, error, result, logTail, job.runID]
        )
        return !updated.rows.isEmpty
    }

    /// Records the PostgreSQL backend a running job uses, for `pg_stat_activity` lookups.
    public static func recordBackendPID(_ pid: Int32, runID: Int64, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE orchestrator.job_runs SET backend_pid = $2 WHERE id = $1 AND status = 'running'",
            [runID, pid]
        )
    }
}
