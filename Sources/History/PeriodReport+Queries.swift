import Alerts
import Backups
import Foundation
import PostgresClient
import Settings

extension PeriodReport {
    /// Raw samples of the period, plus `health_daily` rows for whole days older than the oldest
    /// raw sample (pruned days), combined into one min/avg/max per metric and subject.
    static func metrics(from: Date, until: Date, categories: [String], metrics: [String]?, on connection: PostgresConnection) async throws -> [Metric] {
        let rows = try await connection.query(
            """
            WITH raw AS (
                SELECT host, category, subject, metric, max(unit) AS unit, min(value) AS min, sum(value) AS sum, max(value) AS max,
                       count(value) AS n, count(*) FILTER (WHERE status = 'failed') AS failed, count(*) AS samples
                FROM orchestrator.health_samples
                WHERE taken_at >= $1 AND taken_at < $2 AND category = ANY($3::text[]) AND ($4::text[] IS NULL OR metric = ANY($4::text[]))
                GROUP BY 1, 2, 3, 4
            ), daily AS (
                SELECT host, category, subject, metric, unit, min, avg * count AS sum, max, count::bigint AS n, failed::bigint AS failed,
                       greatest(count, failed)::bigint AS samples
                FROM orchestrator.health_daily
                WHERE day >= ($1::timestamptz AT TIME ZONE 'UTC')::date AND day < ($2::timestamptz AT TIME ZONE 'UTC')::date
                  AND day < coalesce((SELECT (min(taken_at) AT TIME ZONE 'UTC')::date FROM orchestrator.health_samples), 'infinity'::date)
                  AND category = ANY($3::text[]) AND ($4::text[] IS NULL OR metric = ANY($4::text[]))
            ), combined AS (
                SELECT * FROM raw UNION ALL SELECT * FROM daily
            )
            SELECT c.host, c.category, c.subject, c.metric, max(c.unit) AS unit, min(c.min) AS min,
                   sum(c.sum) / nullif(sum(c.n), 0) AS avg, max(c.max) AS max, sum(c.n)::bigint AS n, sum(c.failed)::bigint AS failed,
                   sum(c.samples)::bigint AS samples,
                   l.value AS latest, l.status AS latest_status, l.message AS latest_message
            FROM combined c
            LEFT JOIN orchestrator.latest_health l
              ON l.host = c.host AND l.category = c.category AND l.subject = c.subject AND l.metric = c.metric
            GROUP BY c.host, c.category, c.subject, c.metric, l.value, l.status, l.message
            ORDER BY c.host, c.category, c.subject, coalesce(array_position($4::text[], c.metric), 0), c.metric
            """,
            [from, until, categories, metrics]
        )
        return try rows.rows.map { row in
            Metric(
                host: try row.decode("host"), category: try row.decode("category"), subject: try row.decode("subject"),
                metric: try row.decode("metric"), unit: try row.decodeIfPresent("unit"), min: try row.decodeIfPresent("min"),
                avg: try row.decodeIfPresent("avg"), max: try row.decodeIfPresent("max"), count: try row.decode("n"),
                samples: try row.decode("samples"), failed: try row.decode("failed"), latest: try row.decodeIfPresent("latest"),
                latestStatus: try row.decodeIfPresent("latest_status"), latestMessage: try row.decodeIfPresent("latest_message")
            )
        }
    }

    /// Runs of the period from `job_runs`, plus `job_daily` for the whole UTC days inside the
    /// period whose runs history retention deleted (a run is in one of the two, never both).
    static func runs(from: Date, until: Date, on connection: PostgresConnection) async throws -> [Runs] {
        let rows = try await connection.query(
            """
            WITH raw AS (
                SELECT h.kind, count(*) AS runs,
                       count(*) FILTER (WHERE h.status = 'succeeded') AS succeeded,
                       count(*) FILTER (WHERE h.status = 'failed') AS failed,
                       count(*) FILTER (WHERE h.status = 'timed_out') AS timed_out,
                       count(*) FILTER (WHERE h.status = 'cancelled') AS cancelled,
                       count(*) FILTER (WHERE h.status = 'abandoned') AS abandoned,
                       count(*) FILTER (WHERE h.status = 'running') AS running,
                       count(DISTINCT h.job_id) FILTER (WHERE h.job_state = 'failed') AS jobs_failed,
                       coalesce(sum(h.duration_seconds), 0)::float8 AS total_seconds,
                       max(h.duration_seconds)::float8 AS longest_seconds,
                       max(h.started_at) FILTER (WHERE h.error IS NOT NULL AND h.status IN ('failed', 'timed_out', 'abandoned')) AS last_error_at,
                       (array_agg(h.error ORDER BY h.started_at DESC) FILTER (WHERE h.error IS NOT NULL
                            AND h.status IN ('failed', 'timed_out', 'abandoned')))[1] AS last_error
                FROM orchestrator.job_history h
                WHERE h.started_at >= $1 AND h.started_at < $2
                GROUP BY h.kind
            ), rolled AS (
                SELECT kind, runs, succeeded, failed, timed_out, cancelled, abandoned, 0::int8 AS running, jobs_failed,
                       total_seconds, longest_seconds, last_error_at, last_error
                FROM orchestrator.job_daily
                WHERE day >= ($1::timestamptz AT TIME ZONE 'UTC')::date AND day < ($2::timestamptz AT TIME ZONE 'UTC')::date
                  AND day::timestamp AT TIME ZONE 'UTC' >= $1 AND (day + 1)::timestamp AT TIME ZONE 'UTC' <= $2
            ), combined AS (
                SELECT * FROM raw UNION ALL SELECT * FROM rolled
            )
            SELECT kind, sum(runs)::int8 AS runs, sum(succeeded)::int8 AS succeeded, sum(failed)::int8 AS failed,
                   sum(timed_out)::int8 AS timed_out, sum(cancelled)::int8 AS cancelled, sum(abandoned)::int8 AS abandoned,
                   sum(running)::int8 AS running, sum(jobs_failed)::int8 AS jobs_failed, sum(total_seconds)::float8 AS total_seconds,
                   max(longest_seconds)::float8 AS longest_seconds,
                   (array_agg(last_error ORDER BY last_error_at DESC NULLS LAST))[1] AS last_error
            FROM combined
            GROUP BY kind
            ORDER BY kind
            """,
            [from, until]
        )
        return try rows.rows.map { row in
            Runs(
                kind: try row.decode("kind"), runs: try row.decode("runs"), succeeded: try row.decode("succeeded"),
                failed: try row.decode("failed"), timedOut: try row.decode("timed_out"), cancelled: try row.decode("cancelled"),
                abandoned: try row.decode("abandoned"), running: try row.decode("running"), jobsFailed: try row.decode("jobs_failed"),
                totalSeconds: try row.decode("total_seconds"), longestSeconds: try row.decodeIfPresent("longest_seconds"),
                lastError: try row.decodeIfPresent("last_error")
            )
        }
    }

    static func backups(from: Date, until: Date, configuration: Configuration, on connection: PostgresConnection) async throws -> [Backups] {
        let freshness = try await BackupFreshness.load(configuration: configuration, on: connection, now: until)
        let rows = try await connection.query(
            """
            WITH profiles AS (
                SELECT unnest($3::text[]) AS profile
                UNION SELECT profile FROM orchestrator.backups WHERE finished_at >= $1 AND finished_at < $2
            )
            SELECT p.profile,
                   (SELECT count(*) FROM orchestrator.backups b WHERE b.profile = p.profile AND b.finished_at >= $1 AND b.finished_at < $2) AS made,
                   (SELECT coalesce(sum(bytes), 0)::bigint FROM orchestrator.backups b
                     WHERE b.profile = p.profile AND b.finished_at >= $1 AND b.finished_at < $2) AS bytes,
                   (SELECT count(*) FROM orchestrator.backup_verifications v JOIN orchestrator.backups b ON b.id = v.backup_id
                     WHERE b.profile = p.profile AND v.finished_at >= $1 AND v.finished_at < $2 AND v.status = 'passed') AS verified_passed,
                   (SELECT count(*) FROM orchestrator.backup_verifications v JOIN orchestrator.backups b ON b.id = v.backup_id
                     WHERE b.profile = p.profile AND v.finished_at >= $1 AND v.finished_at < $2 AND v.status = 'failed') AS verified_failed,
                   (SELECT count(*) FROM orchestrator.restore_drills d JOIN orchestrator.backups b ON b.id = d.backup_id
                     WHERE b.profile = p.profile AND d.finished_at >= $1 AND d.finished_at < $2 AND d.status = 'passed') AS drills_passed,
                   (SELECT count(*) FROM orchestrator.restore_drills d JOIN orchestrator.backups b ON b.id = d.backup_id
                     WHERE b.profile = p.profile AND d.finished_at >= $1 AND d.finished_at < $2 AND d.status = 'failed') AS drills_failed,
                   l.newest_verified_at, l.newest_drill_at
            FROM profiles p LEFT JOIN orchestrator.latest_backups l ON l.profile = p.profile
            ORDER BY p.profile
            """,
            [from, until, configuration.backups.profiles.keys.sorted()]
        )
        return try rows.rows.map { row in
            let profile: String = try row.decode("profile")
            return Backups(
                profile: profile, made: try row.decode("made"), bytes: try row.decode("bytes"),
                verificationsPassed: try row.decode("verified_passed"), verificationsFailed: try row.decode("verified_failed"),
                drillsPassed: try row.decode("drills_passed"), drillsFailed: try row.decode("drills_failed"),
                newestVerifiedAt: try row.decodeIfPresent("newest_verified_at"), newestDrillAt: try row.decodeIfPresent("newest_drill_at"),
                warnings: freshness.first { $0.profile == profile }?.warnings ?? []
            )
        }
    }

    static func alerts(from: Date, on connection: PostgresConnection) async throws -> Alerts {
        let counts = try await connection.query(
            """
            SELECT count(*) FILTER (WHERE fired_at >= $1) AS fired,
                   count(*) FILTER (WHERE resolved_at >= $1) AS resolved,
                   count(*) FILTER (WHERE state = 'firing') AS firing
            FROM orchestrator.alerts WHERE fired_at >= $1 OR resolved_at >= $1 OR state = 'firing'
            """,
            [from]
        ).first
        return Alerts(
            fired: try counts?.decode("fired") ?? 0, resolved: try counts?.decode("resolved") ?? 0,
            firingNow: try counts?.decode("firing") ?? 0,
            episodes: try await AlertRecord.load(all: true, since: from, limit: 200, on: connection)
        )
    }
}
