-- History retention: the daily outcomes of job runs that were pruned, and the indexes that keep
-- status, jobs list, reports and pruning independent of how much finished history is kept.

CREATE TABLE orchestrator.job_daily (
    day             date             NOT NULL,
    kind            text             NOT NULL,
    runs            bigint           NOT NULL DEFAULT 0 CHECK (runs >= 0),
    succeeded       bigint           NOT NULL DEFAULT 0,
    failed          bigint           NOT NULL DEFAULT 0,
    timed_out       bigint           NOT NULL DEFAULT 0,
    cancelled       bigint           NOT NULL DEFAULT 0,
    abandoned       bigint           NOT NULL DEFAULT 0,
    jobs_failed     bigint           NOT NULL DEFAULT 0,
    total_seconds   double precision NOT NULL DEFAULT 0,
    longest_seconds double precision,
    last_error_at   timestamptz,
    last_error      text,
    PRIMARY KEY (day, kind)
);

COMMENT ON TABLE orchestrator.job_daily IS
    'Per UTC day (of the run''s start) and kind: outcomes of the job runs that history retention deleted. '
    'Raw job_runs plus these rows give every period''s figures; a run is counted in one place only.';
COMMENT ON COLUMN orchestrator.job_daily.jobs_failed IS 'Failed jobs, counted on the day their last run started.';

-- Status counts finished jobs of a recent window and pruning walks old finished jobs in order.
CREATE INDEX jobs_finished_idx ON orchestrator.jobs (finished_at);
-- Pruning keeps the newest finished job per kind and target: one index probe per candidate.
CREATE INDEX jobs_kind_target_finished_idx ON orchestrator.jobs (kind, (coalesce(target, '')), finished_at)
    WHERE finished_at IS NOT NULL;
-- jobs list --kind walks the newest jobs of one kind and stops at its limit, however rare the
-- kind; nothing read jobs in created_at order per kind.
DROP INDEX orchestrator.jobs_kind_created_idx;
CREATE INDEX jobs_kind_id_idx ON orchestrator.jobs (kind, id);
-- Status counts failed runs of the last 24 hours; failed runs are few.
CREATE INDEX job_runs_failed_finished_idx ON orchestrator.job_runs (finished_at)
    WHERE status IN ('failed', 'timed_out', 'abandoned');

-- Deleting a job sets these references to NULL (and pruning checks the backup records): without
-- an index each deleted job would scan the whole referencing table.
CREATE INDEX schedule_occurrences_job_idx ON orchestrator.schedule_occurrences (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX schedule_occurrences_scheduled_idx ON orchestrator.schedule_occurrences (scheduled_for);
CREATE INDEX health_runs_job_idx ON orchestrator.health_runs (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX backups_job_idx ON orchestrator.backups (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX backup_verifications_job_idx ON orchestrator.backup_verifications (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX restore_drills_job_idx ON orchestrator.restore_drills (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX alert_deliveries_sent_idx ON orchestrator.alert_deliveries (sent_at);
