import Foundation
import PostgresClient

/// Rows of the orchestrator's own history written straight into its tables, dated in the past.
struct HistoryFixtures {
    let connection: PostgresConnection

    /// A finished job with one run per status in `runs` (attempts in order), the last one
    /// finishing `daysAgo` days ago (`at` overrides with an exact time).
    @discardableResult
    func job(_ kind: String, target: String? = nil, state: String, daysAgo: Double = 0, at: String? = nil,
             runs: [String]? = nil, seconds: Double = 2, error: String? = nil) async throws -> Int64 {
        let finished = at.map { "'\($0)'::timestamptz" } ?? "now() - make_interval(secs => \(daysAgo * 86_400))"
        let statuses = runs ?? [state == "cancelled" ? "cancelled" : state]
        let id: Int64 = try await connection.query(
            """
            INSERT INTO orchestrator.jobs (kind, target, state, attempts, enqueued_by, created_at, started_at, finished_at, last_error)
            SELECT $1::text, $2::text, $3::text, $4::int, 'tests', t - interval '1 hour', t - interval '1 hour', t, $5::text
            FROM (SELECT \(finished) AS t) f RETURNING id
            """,
            [kind, target, state, statuses.count, error]
        ).first!.decode("id")
        for (index, status) in statuses.enumerated() {
            // Attempts are a minute apart, the last one ending when the job finished.
            try await connection.query(
                """
                INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid, started_at, finished_at, status, error)
                SELECT id, $2::int, 'w', 'h', 1, finished_at - make_interval(mins => $3::int) - make_interval(secs => $4::float8),
                       finished_at - make_interval(mins => $3::int), $5::text, CASE WHEN $5::text <> 'succeeded' THEN $6::text END
                FROM orchestrator.jobs WHERE id = $1
                """,
                [id, index + 1, statuses.count - 1 - index, seconds, status, error ?? "\(status) at attempt \(index + 1)"]
            )
        }
        return id
    }

    func backup(jobID: Int64, deleted: Bool, label: String) async throws -> Int64 {
        try await connection.query(
            """
            INSERT INTO orchestrator.backups (profile, label, location, host, job_id, started_at, finished_at, bytes, file_count,
                                              manifest, manifest_sha256, deleted_at)
            VALUES ('daily', $2::text, '/b/' || $2::text, 'h', $1::int8, now() - interval '400 days', now() - interval '400 days', 1, 1,
                    '{}', repeat('a', 64), CASE WHEN $3::bool THEN now() - interval '300 days' END)
            RETURNING id
            """,
            [jobID, label, deleted]
        ).first!.decode("id")
    }

    func verification(backupID: Int64, jobID: Int64?, daysAgo: Int) async throws -> Int64 {
        try await connection.query(
            """
            INSERT INTO orchestrator.backup_verifications (backup_id, job_id, started_at, finished_at, status, files_checked, bytes_checked)
            VALUES ($1, $2, now() - make_interval(days => $3), now() - make_interval(days => $3), 'passed', 1, 1) RETURNING id
            """,
            [backupID, jobID, daysAgo]
        ).first!.decode("id")
    }

    func drill(backupID: Int64, jobID: Int64?, daysAgo: Int) async throws -> Int64 {
        try await connection.query(
            """
            INSERT INTO orchestrator.restore_drills (backup_id, job_id, started_at, finished_at, status)
            VALUES ($1, $2, now() - make_interval(days => $3), now() - make_interval(days => $3), 'passed') RETURNING id
            """,
            [backupID, jobID, daysAgo]
        ).first!.decode("id")
    }

    /// An alert fired `firedDaysAgo` and, unless nil, resolved `resolvedDaysAgo`, with one delivery per entry of `sentDaysAgo`.
    func alert(rule: String, firedDaysAgo: Int, resolvedDaysAgo: Int?, sentDaysAgo: [Int]) async throws -> Int64 {
        let id: Int64 = try await connection.query(
            """
            INSERT INTO orchestrator.alerts (rule, source, subject, severity, state, summary, first_seen_at, fired_at, last_seen_at, resolved_at)
            VALUES ($1, 'builtin', $1, 'warning', CASE WHEN $3::int IS NULL THEN 'firing' ELSE 'resolved' END, 'x',
                    now() - make_interval(days => $2), now() - make_interval(days => $2), now(), now() - make_interval(days => $3::int))
            RETURNING id
            """,
            [rule, firedDaysAgo, resolvedDaysAgo]
        ).first!.decode("id")
        for days in sentDaysAgo {
            try await connection.query(
                """
                INSERT INTO orchestrator.alert_deliveries (alert_id, channel, event, severity, delivered, attempts, sent_at, sent_by)
                VALUES ($1, 'ops', 'firing', 'warning', true, 1, now() - make_interval(days => $2), 'tests')
                """,
                [id, days]
            )
        }
        return id
    }

    func occurrence(_ schedule: String, daysAgo: Int) async throws {
        try await connection.query(
            """
            INSERT INTO orchestrator.schedules (name, cron, time_zone, kind, queue, catch_up_seconds)
            VALUES ($1, '@daily', 'UTC', 'noop', 'default', 0) ON CONFLICT DO NOTHING
            """,
            [schedule]
        )
        try await connection.query(
            """
            INSERT INTO orchestrator.schedule_occurrences (schedule_name, scheduled_for, outcome, recorded_by)
            VALUES ($1, date_trunc('day', now()) - make_interval(days => $2), 'on_time', 'tests')
            """,
            [schedule, daysAgo]
        )
    }

    func exists(_ table: String, _ id: Int64) async throws -> Bool {
        try await connection.query("SELECT count(*) AS n FROM orchestrator.\(table) WHERE id = $1", [id]).first!.decode("n") as Int == 1
    }

    func count(_ sql: String) async throws -> Int {
        try await connection.query(sql).first!.decode("n")
    }
}
