import Foundation
import PostgresClient
import Support

extension JobQueue {
    /// One attempt's end, as a worker reports it.
    package struct Completion: Sendable, Equatable {
        package let job: ClaimedJob
        package let outcome: JobOutcome
        package let logTail: String?
        /// How long the job waited on the worker between its claim and its start (a job claimed
        /// ahead of a free slot): the run's `started_at` moves forward by this much, so it tells
        /// when the work really began.
        package let startDelay: Duration

        package init(job: ClaimedJob, outcome: JobOutcome, logTail: String?, startDelay: Duration = .zero) {
            self.job = job
            self.outcome = outcome
            self.logTail = logTail
            self.startDelay = startDelay
        }
    }

    /// Closes the runs and moves their jobs on, atomically, in one statement. Only the worker
    /// holding a job may do this: a job whose lease was lost (the reaper took it) is left
    /// unchanged and missing from the returned set of recorded job ids.
    package static func finish(_ completions: [Completion], worker: WorkerIdentity, on connection: PostgresConnection) async throws -> Set<Int64> {
        guard !completions.isEmpty else { return [] }
        let input = JSONValue.array(completions.map(\.row)).jsonText
        let result = try await connection.query(finishStatement, [worker.id, JSONText(input)])
        return Set(try result.rows.map { try $0.decode("job_id", as: Int64.self) })
    }

    /// Closes one run; false if the job was no longer ours.
    @discardableResult
    package static func finish(
        _ job: ClaimedJob, outcome: JobOutcome, logTail: String?, worker: WorkerIdentity, on connection: PostgresConnection
    ) async throws -> Bool {
        try await finish([Completion(job: job, outcome: outcome, logTail: logTail)], worker: worker, on: connection).contains(job.id)
    }

    private static let finishStatement = PreparedStatement(
        """
        WITH input AS (
            SELECT * FROM jsonb_to_recordset($2::jsonb) AS t(
                job_id bigint, run_id bigint, job_state text, retry_seconds double precision, released boolean,
                run_status text, error text, result jsonb, log_tail text, start_delay_seconds double precision)
        ), job AS (
            UPDATE orchestrator.jobs j
            SET state = i.job_state,
                lease_until = NULL,
                locked_by = NULL,
                run_at = CASE WHEN i.job_state = 'queued' THEN now() + make_interval(secs => i.retry_seconds) ELSE j.run_at END,
                finished_at = CASE WHEN i.job_state = 'queued' THEN NULL ELSE now() END,
                attempts = CASE WHEN i.released THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
                last_error = coalesce(i.error, j.last_error)
            FROM input i
            -- locked_by is set exactly while a job runs and finished_at is null exactly while a run
            -- is open (CHECK constraints). Saying so instead of naming the state keeps the planner
            -- on the primary keys: the partial indexes of running jobs and open runs look empty to
            -- it between ANALYZEs, and joining through them grows with the square of the batch.
            WHERE j.id = i.job_id AND j.locked_by = $1
              AND EXISTS (SELECT 1 FROM orchestrator.job_runs open WHERE open.id = i.run_id AND open.finished_at IS NULL)
            RETURNING j.id AS job_id, i.run_id, i.run_status, i.error, i.result, i.log_tail, i.start_delay_seconds
        )
        UPDATE orchestrator.job_runs r
        SET status = job.run_status, finished_at = now(), result = job.result, error = job.error, log_tail = job.log_tail,
            started_at = least(r.started_at + make_interval(secs => job.start_delay_seconds), now())
        FROM job
        WHERE r.id = job.run_id
        RETURNING r.job_id
        """
    )

    /// Records the PostgreSQL backend a running job uses, for `pg_stat_activity` lookups.
    package static func recordBackendPID(_ pid: Int32, runID: Int64, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE orchestrator.job_runs SET backend_pid = $2 WHERE id = $1 AND status = 'running'",
            [runID, pid]
        )
    }
}

extension JobQueue.Completion {
    /// The completion as one element of the finish statement's JSON input.
    var row: JSONValue {
        let result: [String: JSONValue]?
        let error: String?
        let jobState: JobState
        let retryAfterSeconds: Double
        var released = false
        switch outcome {
        case .succeeded(let value):
            (result, error, jobState, retryAfterSeconds) = (value, nil, .succeeded, 0)
        case .failed(let message, let retry, let partial):
            (result, error) = (partial, message)
            jobState = retry == nil ? .failed : .queued
            retryAfterSeconds = retry?.seconds ?? 0
        case .timedOut(let message, let retry):
            (result, error) = (nil, message)
            jobState = retry == nil ? .failed : .queued
            retryAfterSeconds = retry?.seconds ?? 0
        case .cancelled:
            (result, error, jobState, retryAfterSeconds) = (nil, "cancelled on request", .cancelled, 0)
        case .released(let reason):
            (result, error, jobState, retryAfterSeconds) = (nil, reason, .queued, 0)
            released = true
        }
        return .object([
            "job_id": .int(job.id),
            "run_id": .int(job.runID),
            "job_state": .string(jobState.rawValue),
            "retry_seconds": .double(retryAfterSeconds),
            "released": .bool(released),
            "run_status": .string(outcome.runStatus.rawValue),
            "error": error.map(JSONValue.string) ?? .null,
            "result": result.map(JSONValue.object) ?? .null,
            "log_tail": logTail.map(JSONValue.string) ?? .null,
            "start_delay_seconds": .double(startDelay.seconds),
        ])
    }
}
