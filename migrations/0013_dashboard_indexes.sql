-- What the dashboard's pages read, indexed so that none of them grows with the history
-- (bench/web/run, a year of jobs and 30 days of health samples).

-- /jobs?since=... walks the primary key backwards and stops at its limit only when recent jobs
-- match; with another filter (state=failed&since=1h) it walked the whole table. With this
-- index the planner reads the window instead when it is the smaller side.
CREATE INDEX jobs_created_idx ON orchestrator.jobs (created_at);
-- /jobs?target=... newest first, however rare the target (or when no job has it).
CREATE INDEX jobs_target_id_idx ON orchestrator.jobs (target, id) WHERE target IS NOT NULL;

-- The newest run per host: one index probe per host instead of sorting every run kept. The
-- id breaks ties between runs of the same instant, as the view's ORDER BY does.
DROP INDEX orchestrator.health_runs_host_taken_idx;
CREATE INDEX health_runs_host_taken_idx ON orchestrator.health_runs (host, taken_at DESC, id DESC);

-- Hosts are few and runs many: the recursive part steps from one host to the next through the
-- index (a skip scan), where DISTINCT ON sorted all of a host's runs on every read.
CREATE OR REPLACE VIEW orchestrator.latest_health AS
WITH RECURSIVE hosts (host) AS (
    (SELECT host FROM orchestrator.health_runs ORDER BY host LIMIT 1)
    UNION ALL
    SELECT (SELECT h.host FROM orchestrator.health_runs h WHERE h.host > hosts.host ORDER BY h.host LIMIT 1)
    FROM hosts WHERE hosts.host IS NOT NULL
)
SELECT s.host, s.category, s.subject, s.metric, s.value, s.unit, s.status, s.message, s.details,
       s.taken_at, now() - s.taken_at AS age, s.run_id
FROM hosts
CROSS JOIN LATERAL (
    SELECT r.id FROM orchestrator.health_runs r WHERE r.host = hosts.host ORDER BY r.taken_at DESC, r.id DESC LIMIT 1
) r
JOIN orchestrator.health_samples s ON s.run_id = r.id;

COMMENT ON VIEW orchestrator.latest_health IS 'Latest value of every metric per host and subject (the newest run of each host).';

-- The overview's sparklines: a few metrics of every host over the last 24 hours. The BRIN
-- index on taken_at made them read every sample of the day to keep the few metrics shown.
CREATE INDEX health_samples_metric_taken_idx ON orchestrator.health_samples (metric, taken_at);
