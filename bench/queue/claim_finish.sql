-- The worker's claim and finish statements, driven by pgbench as the raw baseline.
WITH next AS (
    SELECT j.id FROM orchestrator.jobs j
    WHERE j.state = 'queued' AND j.queue = ANY ('{default}'::text[]) AND j.run_at <= now()
      AND (j.concurrency_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM orchestrator.jobs r WHERE r.state = 'running' AND r.concurrency_key = j.concurrency_key))
    ORDER BY j.priority DESC, j.run_at, j.id
    LIMIT 1 FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE orchestrator.jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = 'pgbench',
           lease_until = now() + make_interval(secs => 60), started_at = now(), finished_at = NULL
    FROM next WHERE j.id = next.id RETURNING j.*
), run AS (
    INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid)
    SELECT id, attempts, 'pgbench', 'bench', 0 FROM claimed RETURNING id AS run_id, job_id
)
SELECT coalesce(max(claimed.id), 0) AS job_id, coalesce(max(run.run_id), 0) AS run_id
FROM claimed JOIN run ON run.job_id = claimed.id
\gset
\if :job_id > 0
WITH job AS (
    UPDATE orchestrator.jobs SET state = 'succeeded', lease_until = NULL, locked_by = NULL, finished_at = now()
    WHERE id = :job_id AND state = 'running' AND locked_by = 'pgbench' RETURNING id
)
UPDATE orchestrator.job_runs SET status = 'succeeded', finished_at = now(), result = '{"slept_ms":0}'::jsonb, log_tail = 'bench'
WHERE id = :run_id AND status = 'running' AND EXISTS (SELECT 1 FROM job);
\endif
