-- The worker's claim and finish statements, driven by pgbench (-M prepared) as the raw baseline:
-- a client claims one job plus 16 short ones ahead, about what the worker claims per statement
-- with worker.prefetch at its default 32 (pg_stat_statements on this benchmark: 16 to 17 jobs
-- per claim), then
-- records all their outcomes in one statement, as the worker's dispatcher and recorder do.
-- Only the final SELECT differs from the worker's claim: it builds the finish statement's JSON
-- input in SQL, where the worker builds it in Swift.
WITH candidates AS (
    SELECT j.id, j.kind, j.concurrency_key, j.priority, j.run_at
    FROM orchestrator.jobs j
    WHERE j.state = 'queued' AND j.queue = ANY ('{default}'::text[]) AND j.run_at <= now()
      AND (j.concurrency_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM orchestrator.jobs r WHERE r.state = 'running' AND r.concurrency_key = j.concurrency_key))
    ORDER BY j.priority DESC, j.run_at, j.id
    LIMIT 17
    FOR UPDATE SKIP LOCKED
), ranked AS (
    SELECT id, kind, concurrency_key,
           row_number() OVER (ORDER BY priority DESC, run_at, id) AS place,
           row_number() OVER (PARTITION BY concurrency_key ORDER BY priority DESC, run_at, id) AS place_in_key
    FROM candidates
), picked AS (
    SELECT id FROM ranked
    WHERE (concurrency_key IS NULL OR place_in_key = 1) AND (place <= 1 OR kind = ANY ('{noop}'::text[]))
), claimed AS (
    UPDATE orchestrator.jobs j
    SET state = 'running', attempts = j.attempts + 1, locked_by = 'pgbench',
        lease_until = now() + make_interval(secs => 60), started_at = now(), finished_at = NULL
    FROM picked WHERE j.id = picked.id
    RETURNING j.*
), run AS (
    INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid)
    SELECT id, attempts, 'pgbench', 'bench', 0 FROM claimed
    RETURNING id AS run_id, job_id
)
SELECT count(*) AS claimed_count,
       coalesce(jsonb_agg(jsonb_build_object(
           'job_id', claimed.id, 'run_id', run.run_id, 'job_state', 'succeeded', 'retry_seconds', 0,
           'released', false, 'run_status', 'succeeded', 'error', NULL, 'result', '{"slept_ms":0}'::jsonb,
           'log_tail', 'bench', 'start_delay_seconds', 0)), '[]')::text AS completions
FROM claimed JOIN run ON run.job_id = claimed.id
\gset
\if :claimed_count > 0
WITH input AS (
    SELECT * FROM jsonb_to_recordset(:completions::jsonb) AS t(
        job_id bigint, run_id bigint, job_state text, retry_seconds double precision, released boolean,
        run_status text, error text, result jsonb, log_tail text, start_delay_seconds double precision)
), job AS (
    UPDATE orchestrator.jobs j
    SET state = i.job_state, lease_until = NULL, locked_by = NULL,
        run_at = CASE WHEN i.job_state = 'queued' THEN now() + make_interval(secs => i.retry_seconds) ELSE j.run_at END,
        finished_at = CASE WHEN i.job_state = 'queued' THEN NULL ELSE now() END,
        attempts = CASE WHEN i.released THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
        last_error = coalesce(i.error, j.last_error)
    FROM input i
    WHERE j.id = i.job_id AND j.locked_by = 'pgbench'
      AND EXISTS (SELECT 1 FROM orchestrator.job_runs open WHERE open.id = i.run_id AND open.finished_at IS NULL)
    RETURNING j.id AS job_id, i.run_id, i.run_status, i.error, i.result, i.log_tail, i.start_delay_seconds
)
UPDATE orchestrator.job_runs r
SET status = job.run_status, finished_at = now(), result = job.result, error = job.error, log_tail = job.log_tail,
    started_at = least(r.started_at + make_interval(secs => job.start_delay_seconds), now())
FROM job
WHERE r.id = job.run_id;
\endif
