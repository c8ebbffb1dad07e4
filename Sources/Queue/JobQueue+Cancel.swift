import PostgresClient

extension JobQueue {
    package enum CancelResult: Sendable, Equatable {
        /// A queued job was cancelled; it will never run.
        case cancelled
        /// A running job was asked to stop; its worker stops it within seconds and records it.
        case requested
        /// The job had already finished in this state.
        case alreadyFinished(state: JobState)
        case notFound
    }

    /// Cancels a queued job at once, or asks the worker running it to stop (NOTIFY, with the
    /// heartbeat as fallback).
    package static func cancel(id: Int64, on connection: PostgresConnection) async throws -> CancelResult {
        let queued = try await connection.query(
            """
            UPDATE orchestrator.jobs SET state = 'cancelled', finished_at = now(), cancel_requested_at = now(),
                   last_error = 'cancelled before it ran'
            WHERE id = $1 AND state = 'queued' RETURNING id
            """,
            [id]
        )
        if !queued.rows.isEmpty { return .cancelled }
        let running = try await connection.query(
            """
            WITH marked AS (
                UPDATE orchestrator.jobs SET cancel_requested_at = coalesce(cancel_requested_at, now())
                WHERE id = $1 AND state = 'running' RETURNING id
            )
            SELECT id, pg_notify('orchestrator_cancel', id::text) FROM marked
            """,
            [id]
        )
        if !running.rows.isEmpty { return .requested }
        let current = try await connection.query("SELECT state FROM orchestrator.jobs WHERE id = $1", [id])
        guard let row = current.first else { return .notFound }
        return .alreadyFinished(state: try row.decode("state"))
    }

    package enum RetryResult: Sendable, Equatable {
        case requeued
        case notFinished(state: JobState)
        case notFound
    }

    /// Queues a failed or cancelled job again, now, with a fresh set of attempts.
    package static func retry(id: Int64, on connection: PostgresConnection) async throws -> RetryResult {
        let updated = try await connection.query(
            """
            UPDATE orchestrator.jobs
            SET state = 'queued', run_at = now(), max_attempts = attempts + greatest(max_attempts - attempts, 1),
                finished_at = NULL, cancel_requested_at = NULL
            WHERE id = $1 AND state IN ('failed', 'cancelled')
            RETURNING id
            """,
            [id]
        )
        if !updated.rows.isEmpty { return .requeued }
        let current = try await connection.query("SELECT state FROM orchestrator.jobs WHERE id = $1", [id])
        guard let row = current.first else { return .notFound }
        return .notFinished(state: try row.decode("state"))
    }
}
