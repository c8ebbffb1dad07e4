-- Health sampling: one row per sampling run, one typed row per measured value, daily rollups
-- kept after raw samples are pruned, and the latest value of everything per host.

CREATE TABLE orchestrator.health_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host        text             NOT NULL,
    taken_at    timestamptz      NOT NULL,
    duration_ms double precision NOT NULL CHECK (duration_ms >= 0),
    database_ms double precision NOT NULL DEFAULT 0 CHECK (database_ms >= 0),
    job_id      bigint           REFERENCES orchestrator.jobs (id) ON DELETE SET NULL,
    samples     integer          NOT NULL DEFAULT 0,
    failed      integer          NOT NULL DEFAULT 0
);

COMMENT ON TABLE orchestrator.health_runs IS 'One row per health sampling run (the health job, or orchestrator health without --no-store).';
COMMENT ON COLUMN orchestrator.health_runs.database_ms IS 'Time spent in PostgreSQL sampling queries, connecting excluded.';

CREATE INDEX health_runs_host_taken_idx ON orchestrator.health_runs (host, taken_at DESC);
CREATE INDEX health_runs_taken_idx ON orchestrator.health_runs (taken_at);

CREATE TABLE orchestrator.health_samples (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id   bigint           NOT NULL REFERENCES orchestrator.health_runs (id) ON DELETE CASCADE,
    host     text             NOT NULL,
    taken_at timestamptz      NOT NULL,
    category text             NOT NULL CHECK (category IN ('system', 'postgres', 'service', 'check')),
    subject  text             NOT NULL,
    metric   text             NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$'),
    value    double precision CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    unit     text,
    status   text             NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'failed', 'unknown', 'absent')),
    message  text,
    details  jsonb            NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object'),
    CHECK (status <> 'ok' OR value IS NOT NULL)
);

COMMENT ON TABLE orchestrator.health_samples IS
    'One measured value per row; value is NULL when status says why there is no number (failed, unknown, absent).';
COMMENT ON COLUMN orchestrator.health_samples.subject IS
    'What was measured: host, a mount path, a database key, db/schema.table, server, a systemd unit, a check name.';

CREATE INDEX health_samples_run_idx ON orchestrator.health_samples (run_id);
-- History of one metric: WHERE host = ... AND metric = ... AND subject = ... ORDER BY taken_at DESC.
CREATE INDEX health_samples_series_idx ON orchestrator.health_samples (host, metric, subject, taken_at DESC);
-- Rollups read whole days; rows arrive in time order, so a BRIN index stays tiny.
CREATE INDEX health_samples_taken_brin ON orchestrator.health_samples USING brin (taken_at);

CREATE TABLE orchestrator.health_daily (
    host     text             NOT NULL,
    day      date             NOT NULL,
    category text             NOT NULL,
    subject  text             NOT NULL,
    metric   text             NOT NULL,
    unit     text,
    min      double precision,
    avg      double precision,
    max      double precision,
    count    integer          NOT NULL,
    failed   integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (host, day, category, subject, metric)
);

COMMENT ON TABLE orchestrator.health_daily IS
    'Per UTC day: min/avg/max and number of numeric samples (count) and failed samples of each metric; kept after raw samples are pruned.';

CREATE INDEX health_daily_day_idx ON orchestrator.health_daily (day);
CREATE INDEX health_daily_series_idx ON orchestrator.health_daily (host, metric, subject, day DESC);

-- The samples of each host's newest run: what is true now. A subject that is no longer
-- sampled (a table that left the dead-tuples top N, a removed check) drops out.
CREATE VIEW orchestrator.latest_health AS
SELECT s.host, s.category, s.subject, s.metric, s.value, s.unit, s.status, s.message, s.details,
       s.taken_at, now() - s.taken_at AS age, s.run_id
FROM (SELECT DISTINCT ON (host) id FROM orchestrator.health_runs ORDER BY host, taken_at DESC, id DESC) r
JOIN orchestrator.health_samples s ON s.run_id = r.id;

COMMENT ON VIEW orchestrator.latest_health IS 'Latest value of every metric per host and subject (the newest run of each host).';
