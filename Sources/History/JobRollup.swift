import Maintenance

/// The rollup of deleted jobs' runs into `job_daily`, done inside each batch's DELETE statement
/// (`DeleteCompanion`): the counts are added from exactly the rows that go, so re-running the
/// pruning never counts a run twice, and a crash between batches loses no run.
enum JobRollup {
    static let failedStatuses = "('failed', 'timed_out', 'abandoned')"

    /// `gone` holds the deleted jobs; their runs are still visible to the same statement.
    static let companion = DeleteCompanion(
        ctes: """
        gone_runs AS (
            SELECT g.kind, g.state AS job_state, r.started_at, r.status, r.error,
                   extract(epoch FROM r.duration)::float8 AS seconds,
                   r.id = max(r.id) OVER (PARTITION BY r.job_id) AS last_run
            FROM orchestrator.job_runs r JOIN gone g ON g.id = r.job_id
        ), rolled AS (
            INSERT INTO orchestrator.job_daily AS d (day, kind, runs, succeeded, failed, timed_out, cancelled, abandoned,
                                                     jobs_failed, total_seconds, longest_seconds, last_error_at, last_error)
            SELECT (started_at AT TIME ZONE 'UTC')::date, kind, count(*),
                   count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'failed'),
                   count(*) FILTER (WHERE status = 'timed_out'), count(*) FILTER (WHERE status = 'cancelled'),
                   count(*) FILTER (WHERE status = 'abandoned'), count(*) FILTER (WHERE last_run AND job_state = 'failed'),
                   coalesce(sum(seconds), 0), max(seconds),
                   max(started_at) FILTER (WHERE error IS NOT NULL AND status IN \(failedStatuses)),
                   (array_agg(error ORDER BY started_at DESC) FILTER (WHERE error IS NOT NULL AND status IN \(failedStatuses)))[1]
            FROM gone_runs
            GROUP BY 1, 2
            ON CONFLICT (day, kind) DO UPDATE SET
                runs = d.runs + EXCLUDED.runs, succeeded = d.succeeded + EXCLUDED.succeeded,
                failed = d.failed + EXCLUDED.failed, timed_out = d.timed_out + EXCLUDED.timed_out,
                cancelled = d.cancelled + EXCLUDED.cancelled, abandoned = d.abandoned + EXCLUDED.abandoned,
                jobs_failed = d.jobs_failed + EXCLUDED.jobs_failed, total_seconds = d.total_seconds + EXCLUDED.total_seconds,
                longest_seconds = greatest(d.longest_seconds, EXCLUDED.longest_seconds),
                last_error = CASE WHEN EXCLUDED.last_error_at > d.last_error_at OR d.last_error_at IS NULL
                                  THEN coalesce(EXCLUDED.last_error, d.last_error) ELSE d.last_error END,
                last_error_at = greatest(d.last_error_at, EXCLUDED.last_error_at)
            RETURNING 1
        )
        """,
        counted: "SELECT count(*) FROM gone_runs"
    )
}
