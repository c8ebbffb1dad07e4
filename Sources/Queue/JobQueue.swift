import Foundation
import PostgresClient

/// The SQL of the queue. Every function takes the connection to use, so callers decide which
/// session (and which transaction) the statement belongs to.
package enum JobQueue {
    package struct EnqueueResult: Sendable, Equatable {
        package let id: Int64
        /// True when a queued or running job with the same unique key already existed.
        package let existing: Bool
    }

    /// Inserts a job (NOTIFY fires from the insert trigger). With a unique key, returns the id of
    /// the queued-or-running job holding that key instead of inserting a second one.
    package static func enqueue(_ job: PreparedJob, on connection: PostgresConnection) async throws -> EnqueueResult {
        // A job holding the key may finish between the insert and the lookup; try again then.
        for _ in 0..<5 {
            let inserted = try await connection.query(
                """
                INSERT INTO orchestrator.jobs
                    (kind, target, args, queue, priority, run_at, max_attempts, timeout_seconds,
                     concurrency_key, unique_key, schedule_name, scheduled_for, enqueued_by)
                VALUES ($1, $2, $3::jsonb, $4, $5, coalesce($6::timestamptz, now()), $7, $8, $9, $10, $11, $12, $13)
                ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued', 'running') DO NOTHING
                RETURNING id
                """,
                [
                    job.kind, job.target, job.arguments.jsonText, job.queue, job.priority, job.runAt,
                    job.maxAttempts, job.timeoutSeconds, job.concurrencyKey, job.uniqueKey,
                    job.scheduleName, job.scheduledFor, job.enqueuedBy,
                ]
            )
            if let row = inserted.first { return EnqueueResult(id: try row.decode("id"), existing: false) }
            let existing = try await connection.query(
                "SELECT id FROM orchestrator.jobs WHERE unique_key = $1 AND state IN ('queued', 'running')",
                [job.uniqueKey]
            )
            if let row = existing.first { return EnqueueResult(id: try row.decode("id"), existing: true) }
        }
        throw PostgresError(code: .server, message: "unique key \(job.uniqueKey ?? "") kept changing hands; try again")
    }
}
