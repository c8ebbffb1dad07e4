import Foundation
import PostgresClient

/// Jobs that failed for good in the last 24 hours, newest first: what the overview lists under
/// "needs attention".
package struct RecentFailure: Sendable, Codable, Equatable {
    package let id: Int64
    package let kind: String
    package let target: String?
    package let error: String?
    package let finishedAt: Date

    package static func load(limit: Int = 10, on connection: PostgresConnection) async throws -> [RecentFailure] {
        // jobs_failed_finished_idx holds only failed jobs.
        let rows = try await connection.query(
            """
            SELECT id, kind, target, last_error, finished_at FROM orchestrator.jobs
            WHERE state = 'failed' AND finished_at > now() - interval '24 hours'
            ORDER BY finished_at DESC LIMIT $1
            """,
            [limit]
        )
        return try rows.rows.map { row in
            RecentFailure(id: try row.decode("id"), kind: try row.decode("kind"), target: try row.decodeIfPresent("target"),
                          error: try row.decodeIfPresent("last_error"), finishedAt: try row.decode("finished_at"))
        }
    }
}
