-- A run given back by a graceful shutdown (the job is queued again without using an attempt)
-- is 'released'; 'abandoned' stays for runs whose worker died and whose lease expired.

ALTER TABLE orchestrator.job_runs
    DROP CONSTRAINT job_runs_status_check,
    ADD CONSTRAINT job_runs_status_check
        CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'abandoned', 'released', 'timed_out'));

COMMENT ON COLUMN orchestrator.job_runs.status IS
    'running, succeeded, failed, timed_out, cancelled, released (given back on shutdown), abandoned (lease expired: the worker died)';
