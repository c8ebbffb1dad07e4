import PostgresClient

/// Rolls raw health samples up into `health_daily` (per UTC day) and prunes both by age.
///
/// Raw samples are deleted in whole UTC days, and every day is rolled up from its complete raw
/// rows right before they go, so a daily row is always computed from the full day (recomputing
/// it gives the same result). Days completed since the last rollup are rolled up too, so the
/// daily table is current without waiting for pruning.
package enum HealthRetention {
    package struct Report: Sendable, Equatable, Encodable {
        package var dailyRows: Int
        package var prunedRuns: Int
        package var prunedDailyRows: Int
    }

    static let today = "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"

    package static func apply(keepRawDays: Int, keepDailyDays: Int, on connection: PostgresConnection) async throws -> Report {
        try await connection.transaction { tx in
            // Serialises concurrent maintenance from several hosts' health jobs.
            try await tx.query("LOCK TABLE orchestrator.health_daily IN SHARE ROW EXCLUSIVE MODE")
            var report = Report(dailyRows: 0, prunedRuns: 0, prunedDailyRows: 0)
            report.dailyRows += try await rollUp(
                from: "coalesce(((SELECT max(day) FROM orchestrator.health_daily) + 1)::timestamp AT TIME ZONE 'UTC', '-infinity')",
                until: today, on: tx
            )
            let cutoff = "(\(today) - $1::int * interval '1 day')"
            report.dailyRows += try await rollUp(from: "'-infinity'::timestamptz", until: cutoff, parameters: [keepRawDays], on: tx)
            report.prunedRuns = try await tx.query("DELETE FROM orchestrator.health_runs WHERE taken_at < \(cutoff)", [keepRawDays]).affectedRows
            report.prunedDailyRows = try await tx.query(
                "DELETE FROM orchestrator.health_daily WHERE day < (now() AT TIME ZONE 'UTC')::date - $1::int", [keepDailyDays]
            ).affectedRows
            return report
        }
    }

    /// `from` and `until` are SQL expressions written above, never text from outside.
    private static func rollUp(from: String, until: String, parameters: [(any PostgresEncodable)?] = [], on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            INSERT INTO orchestrator.health_daily (host, day, category, subject, metric, unit, min, avg, max, count, failed)
            SELECT host, (taken_at AT TIME ZONE 'UTC')::date, category, subject, metric, max(unit),
                   min(value), avg(value), max(value), count(value), count(*) FILTER (WHERE status = 'failed')
            FROM orchestrator.health_samples
            WHERE taken_at >= \(from) AND taken_at < \(until)
            GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (host, day, category, subject, metric) DO UPDATE
            SET unit = EXCLUDED.unit, min = EXCLUDED.min, avg = EXCLUDED.avg, max = EXCLUDED.max,
                count = EXCLUDED.count, failed = EXCLUDED.failed
            """,
            parameters
        ).affectedRows
    }
}
