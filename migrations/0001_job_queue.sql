-- The job queue: jobs, one row per attempt, workers, schedules and their occurrences.

CREATE SCHEMA IF NOT EXISTS orchestrator;

CREATE TABLE orchestrator.jobs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9-]{0,62}$'),
    target              text,
    args                jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(args) = 'object'),
    queue               text        NOT NULL DEFAULT 'default' CHECK (queue ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    priority            integer     NOT NULL DEFAULT 0,
    state               text        NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    run_at              timestamptz NOT NULL DEFAULT now(),
    attempts            integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts        integer     NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    timeout_seconds     integer     NOT NULL DEFAULT 3600 CHECK (timeout_seconds > 0),
    lease_until         timestamptz,
    locked_by           text,
    concurrency_key     text,
    unique_key          text,
    schedule_name       text,
    scheduled_for       timestamptz,
    enqueued_by         text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    cancel_requested_at timestamptz,
    last_error          text,
    CHECK ((state = 'running') = (lease_until IS NOT NULL AND locked_by IS NOT NULL))
);

COMMENT ON TABLE orchestrator.jobs IS 'One row per unit of work; job_runs holds one row per attempt.';
COMMENT ON COLUMN orchestrator.jobs.priority IS 'Higher runs first.';
COMMENT ON COLUMN orchestrator.jobs.lease_until IS 'A running job whose lease passed is abandoned by its worker and reaped.';

-- The claim query walks this index in order and stops at the first unlocked, runnable row.
CREATE INDEX jobs_claim_idx ON orchestrator.jobs (priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON orchestrator.jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_kind_created_idx ON orchestrator.jobs (kind, created_at DESC);
-- At most one queued-or-running job per unique key.
CREATE UNIQUE INDEX jobs_unique_key_idx ON orchestrator.jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('queued', 'running');
-- At most one running job per concurrency key, whatever worker or host claims it.
CREATE UNIQUE INDEX jobs_concurrency_key_idx ON orchestrator.jobs (concurrency_key)
    WHERE concurrency_key IS NOT NULL AND state = 'running';
-- Each schedule occurrence becomes at most one job.
CREATE UNIQUE INDEX jobs_schedule_occurrence_idx ON orchestrator.jobs (schedule_name, scheduled_for)
    WHERE schedule_name IS NOT NULL;

CREATE TABLE orchestrator.job_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint      NOT NULL REFERENCES orchestrator.jobs (id) ON DELETE CASCADE,
    attempt     integer     NOT NULL,
    worker_id   text        NOT NULL,
    host        text        NOT NULL,
    pid         integer     NOT NULL,
    backend_pid integer,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    duration    interval GENERATED ALWAYS AS (finished_at - started_at) STORED,
    status      text        NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'abandoned', 'timed_out')),
    result      jsonb,
    error       text,
    log_tail    text,
    CHECK ((status = 'running') = (finished_at IS NULL))
);

COMMENT ON TABLE orchestrator.job_runs IS 'One row per attempt; closed rows are never rewritten.';

CREATE INDEX job_runs_job_idx ON orchestrator.job_runs (job_id, id);
CREATE INDEX job_runs_started_idx ON orchestrator.job_runs (started_at DESC);
CREATE INDEX job_runs_open_idx ON orchestrator.job_runs (job_id) WHERE status = 'running';

-- A closed run is history: refuse to rewrite it, whoever tries.
CREATE FUNCTION orchestrator.job_runs_closed_are_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'job run % is closed (%) and cannot be changed', OLD.id, OLD.status
        USING ERRCODE = 'object_not_in_prerequisite_state';
END;
$$;

CREATE TRIGGER job_runs_closed_are_immutable
    BEFORE UPDATE ON orchestrator.job_runs
    FOR EACH ROW WHEN (OLD.status <> 'running')
    EXECUTE FUNCTION orchestrator.job_runs_closed_are_immutable();

-- Wake idle workers: on new jobs, and when a finished job frees a concurrency key.
CREATE FUNCTION orchestrator.notify_jobs_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    queue_name text;
BEGIN
    FOR queue_name IN SELECT DISTINCT queue FROM new_jobs WHERE state = 'queued' LOOP
        PERFORM pg_notify('orchestrator_jobs', queue_name);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_notify_inserted
    AFTER INSERT ON orchestrator.jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT
    EXECUTE FUNCTION orchestrator.notify_jobs_inserted();

CREATE FUNCTION orchestrator.notify_job_released() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orchestrator_jobs', NEW.queue);
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_notify_released
    AFTER UPDATE OF state ON orchestrator.jobs
    FOR EACH ROW
    WHEN (OLD.state = 'running' AND (NEW.state = 'queued' OR NEW.concurrency_key IS NOT NULL))
    EXECUTE FUNCTION orchestrator.notify_job_released();

CREATE TABLE orchestrator.workers (
    id           text        PRIMARY KEY,
    host         text        NOT NULL,
    pid          integer     NOT NULL,
    queues       text[]      NOT NULL,
    concurrency  integer     NOT NULL,
    version      text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
);

CREATE TABLE orchestrator.schedules (
    name               text        PRIMARY KEY,
    cron               text        NOT NULL,
    time_zone          text        NOT NULL,
    kind               text        NOT NULL,
    target             text,
    args               jsonb       NOT NULL DEFAULT '{}'::jsonb,
    queue              text        NOT NULL,
    enabled            boolean     NOT NULL DEFAULT true,
    catch_up_seconds   integer     NOT NULL,
    first_seen_at      timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    last_scheduled_for timestamptz
);

COMMENT ON TABLE orchestrator.schedules IS 'Schedules as last synced from a worker''s configuration.';

CREATE TABLE orchestrator.schedule_occurrences (
    schedule_name text        NOT NULL REFERENCES orchestrator.schedules (name) ON DELETE CASCADE,
    scheduled_for timestamptz NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('on_time', 'late', 'missed')),
    job_id        bigint      REFERENCES orchestrator.jobs (id) ON DELETE SET NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    recorded_by   text        NOT NULL,
    PRIMARY KEY (schedule_name, scheduled_for)
);

COMMENT ON TABLE orchestrator.schedule_occurrences IS
    'Every occurrence a scheduler saw: enqueued on time, enqueued late (caught up), or missed and not run.';

CREATE VIEW orchestrator.job_history AS
SELECT r.id            AS run_id,
       j.id            AS job_id,
       j.kind,
       j.target,
       j.queue,
       r.attempt,
       j.max_attempts,
       r.status,
       j.state         AS job_state,
       r.worker_id,
       r.host,
       r.pid,
       r.backend_pid,
       r.started_at,
       r.finished_at,
       r.duration,
       extract(epoch FROM r.duration) AS duration_seconds,
       r.error,
       r.result,
       j.args,
       j.enqueued_by,
       j.schedule_name,
       j.scheduled_for,
       j.created_at    AS enqueued_at
FROM orchestrator.job_runs r
JOIN orchestrator.jobs j ON j.id = r.job_id;

COMMENT ON VIEW orchestrator.job_history IS 'Every attempt of every job, newest queries first by started_at.';
