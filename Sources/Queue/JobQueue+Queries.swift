import Foundation
import PostgresClient

extension JobQueue {
    package struct ListFilter: Sendable {
        package var states: [JobState]
        package var kind: String?
        /// Exact target text.
        package var target: String?
        /// Only jobs created at or after this time.
        package var since: Date?
        /// Keyset pagination: only jobs with a smaller id (the last id of the previous page).
        package var beforeID: Int64?
        package var limit: Int
        package init(states: [JobState] = [], kind: String? = nil, target: String? = nil, since: Date? = nil, beforeID: Int64? = nil, limit: Int = 50) {
            self.states = states
            self.kind = kind
            self.target = target
            self.since = since
            self.beforeID = beforeID
            self.limit = limit
        }
    }

    /// Newest first. Walks the primary key backwards from `beforeID` (or the newest job), so a
    /// page costs its LIMIT plus the rows the filters skip; `jobs_kind_id_idx` serves a kind.
    package static func list(_ filter: ListFilter, on connection: PostgresConnection) async throws -> [JobRecord] {
        let result = try await connection.query(
            """
            SELECT \(JobRecord.columns) FROM orchestrator.jobs
            WHERE (cardinality($1::text[]) = 0 OR state = ANY ($1::text[]))
              AND ($2::text IS NULL OR kind = $2)
              AND ($4::text IS NULL OR target = $4)
              AND ($5::timestamptz IS NULL OR created_at >= $5)
              AND ($6::int8 IS NULL OR id < $6)
            ORDER BY id DESC
            LIMIT $3
            """,
            [filter.states.map(\.rawValue), filter.kind, filter.limit, filter.target, filter.since, filter.beforeID]
        )
        return try result.rows.map(JobRecord.init(row:))
    }

    package static func job(id: Int64, on connection: PostgresConnection) async throws -> JobRecord? {
        let result = try await connection.query("SELECT \(JobRecord.columns) FROM orchestrator.jobs WHERE id = $1", [id])
        return try result.first.map(JobRecord.init(row:))
    }

    package static func runs(jobID: Int64, on connection: PostgresConnection) async throws -> [RunRecord] {
        let result = try await connection.query(
            "SELECT \(RunRecord.columns) FROM orchestrator.job_runs WHERE job_id = $1 ORDER BY id", [jobID]
        )
        return try result.rows.map(RunRecord.init(row:))
    }

    /// Blocks until the job reaches a final state; wakes on NOTIFY from its worker, polls as fallback.
    package static func waitUntilFinished(id: Int64, on connection: PostgresConnection, poll: Duration = .seconds(1)) async throws -> JobRecord {
        while true {
            guard let job = try await job(id: id, on: connection) else {
                throw PostgresError(code: .server, message: "job \(id) no longer exists")
            }
            if job.state.isFinished { return job }
            try await Task.sleep(for: poll)
        }
    }
}
