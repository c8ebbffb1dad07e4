import Foundation
import PostgresClient
import Support

/// Writes sampling runs to `health_runs` / `health_samples` and reads what the next run needs.
package enum HealthStore {
    /// Stores the run and all its samples in one transaction; returns the run id.
    @discardableResult
    package static func store(_ run: HealthRun, jobID: Int64?, on connection: PostgresConnection) async throws -> Int64 {
        let rows: [JSONValue] = run.samples.map { sample in
            .object([
                "category": .string(sample.category.rawValue), "subject": .string(sample.subject), "metric": .string(sample.metric),
                "value": sample.value.map(JSONValue.double) ?? .null, "unit": sample.unit.map(JSONValue.string) ?? .null,
                "status": .string(sample.status.rawValue), "message": sample.message.map(JSONValue.string) ?? .null,
                "details": .object(sample.details),
            ])
        }
        return try await connection.transaction { tx in
            let id: Int64 = try await tx.query(
                """
                INSERT INTO orchestrator.health_runs (host, taken_at, duration_ms, database_ms, job_id, samples, failed)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
                """,
                [run.host, run.takenAt, run.durationMs, run.databaseMs, jobID, run.samples.count, run.failed.count]
            ).single().decode("id")  // INSERT ... RETURNING of one row returns one row
            try await tx.query(
                """
                INSERT INTO orchestrator.health_samples (run_id, host, taken_at, category, subject, metric, value, unit, status, message, details)
                SELECT $1, $2, $3, s.category, s.subject, s.metric, s.value, s.unit, s.status, s.message, s.details
                FROM jsonb_to_recordset($4::jsonb)
                     AS s(category text, subject text, metric text, value float8, unit text, status text, message text, details jsonb)
                """,
                [id, run.host, run.takenAt, JSONText(JSONValue.array(rows).jsonText)]
            )
            return id
        }
    }

    /// The newest stored transaction counter of each database sampled from `host`, so the next
    /// run can report transactions per second.
    static func previousCounters(host: String, on connection: PostgresConnection) async throws -> [String: PostgresSampler.Counter] {
        let rows = try await connection.query(
            """
            SELECT DISTINCT ON (subject) subject, value, taken_at
            FROM orchestrator.health_samples
            WHERE host = $1 AND metric = 'pg.xact_total' AND value IS NOT NULL
            ORDER BY subject, taken_at DESC
            """,
            [host]
        )
        var counters: [String: PostgresSampler.Counter] = [:]
        for row in rows.rows {
            counters[try row.decode("subject")] = PostgresSampler.Counter(value: try row.decode("value"), takenAt: try row.decode("taken_at"))
        }
        return counters
    }
}
