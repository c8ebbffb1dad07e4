import PostgresClient

extension JobQueue {
    package struct LeaseRenewal: Sendable, Equatable {
        /// Jobs this worker still holds.
        package var held: Set<Int64>
        /// Of those, the ones someone asked to cancel.
        package var cancelRequested: Set<Int64>
    }

    /// Heartbeat: extends the lease of every job this worker runs and the worker's own row.
    package static func renewLeases(worker: WorkerIdentity, leaseSeconds: Int, on connection: PostgresConnection) async throws -> LeaseRenewal {
        let result = try await connection.query(
            """
            WITH beat AS (
                UPDATE orchestrator.workers SET heartbeat_at = now() WHERE id = $1
            )
            UPDATE orchestrator.jobs SET lease_until = now() + make_interval(secs => $2)
            WHERE state = 'running' AND locked_by = $1
            RETURNING id, cancel_requested_at IS NOT NULL AS cancel_requested
            """,
            [worker.id, leaseSeconds]
        )
        var renewal = LeaseRenewal(held: [], cancelRequested: [])
        for row in result.rows {
            let id: Int64 = try row.decode("id")
            renewal.held.insert(id)
            if try row.decode("cancel_requested", as: Bool.self) { renewal.cancelRequested.insert(id) }
        }
        return renewal
    }

    package struct ReapedJob: Sendable, Equatable {
        package let id: Int64
        package let state: JobState
        package let worker: String
    }

    /// Closes the runs of jobs whose lease expired (their worker died or lost the database) as
    /// `abandoned`, and queues each job again, or fails it when that was its last attempt.
    package static func reapExpiredLeases(on connection: PostgresConnection) async throws -> [ReapedJob] {
        let result = try await connection.query(
            """
            WITH expired AS (
                SELECT id, locked_by, attempts, max_attempts, cancel_requested_at
                FROM orchestrator.jobs
                WHERE state = 'running' AND lease_until < now()
                FOR UPDATE SKIP LOCKED
            ), runs AS (
                UPDATE orchestrator.job_runs r
                SET status = 'abandoned', finished_at = now(),
                    error = 'lease expired: worker ' || e.locked_by || ' stopped heartbeating'
                FROM expired e
                WHERE r.job_id = e.id AND r.status = 'running'
            )
            UPDATE orchestrator.jobs j
            SET state = CASE WHEN e.cancel_requested_at IS NOT NULL THEN 'cancelled'
                             WHEN e.attempts >= e.max_attempts THEN 'failed'
                             ELSE 'queued' END,
                finished_at = CASE WHEN e.cancel_requested_at IS NULL AND e.attempts < e.max_attempts THEN NULL ELSE now() END,
                run_at = now(),
                lease_until = NULL,
                locked_by = NULL,
                last_error = 'lease expired: worker ' || e.locked_by || ' stopped heartbeating'
            FROM expired e
            WHERE j.id = e.id
            RETURNING j.id, j.state, e.locked_by AS worker
            """
        )
        return try result.rows.map { row in
            ReapedJob(id: try row.decode("id"), state: try row.decode("state"), worker: try row.decode("worker"))
        }
    }

    /// Forgets workers that stopped (or vanished) long ago, so the registry stays small.
    package static func pruneWorkers(olderThan days: Int = 7, on connection: PostgresConnection) async throws {
        try await connection.query(
            "DELETE FROM orchestrator.workers WHERE coalesce(stopped_at, heartbeat_at) < now() - make_interval(days => $1)", [days]
        )
    }
}
