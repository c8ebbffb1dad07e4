import Foundation
import PostgresClient

extension JobQueue {
    /// A closed run with a result, and the job it belongs to.
    package struct KindRun: Sendable, Equatable {
        package let kind: String
        package let target: String?
        package let run: RunRecord
    }

    /// The closed runs that stored a result, of the newest `jobsPerKind` jobs of each kind, newest
    /// run first. Each kind walks `jobs_kind_id_idx` backwards and stops after its limit; the runs
    /// come through `job_runs_job_idx`, so the cost does not grow with the history kept.
    package static func recentResults(kinds: [String], jobsPerKind: Int, on connection: PostgresConnection) async throws -> [KindRun] {
        let result = try await connection.query(
            """
            WITH recent AS (
                SELECT j.id AS recent_job, j.kind AS job_kind, j.target AS job_target
                FROM unnest($1::text[]) AS k(kind)
                CROSS JOIN LATERAL (SELECT id, kind, target FROM orchestrator.jobs WHERE kind = k.kind ORDER BY id DESC LIMIT $2) j
            )
            SELECT recent.job_kind, recent.job_target, \(RunRecord.columns)
            FROM recent JOIN orchestrator.job_runs ON job_runs.job_id = recent.recent_job
            WHERE job_runs.result IS NOT NULL AND job_runs.status <> 'running'
            ORDER BY job_runs.started_at DESC, job_runs.id DESC
            """,
            [kinds, jobsPerKind]
        )
        return try result.rows.map { row in
            KindRun(kind: try row.decode("job_kind"), target: try row.decodeIfPresent("job_target"), run: try RunRecord(row: row))
        }
    }
}
