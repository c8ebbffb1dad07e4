-- Restore drills: a backup restored into a scratch database, checked table by table, timed.

CREATE TABLE orchestrator.restore_drills (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backup_id        bigint      NOT NULL REFERENCES orchestrator.backups (id) ON DELETE CASCADE,
    job_id           bigint      REFERENCES orchestrator.jobs (id) ON DELETE SET NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL,
    status           text        NOT NULL CHECK (status IN ('passed', 'failed')),
    restore_seconds  double precision,
    backup_age       interval,
    tables_checked   integer     NOT NULL DEFAULT 0,
    mismatches       jsonb       NOT NULL DEFAULT '[]'::jsonb,
    error            text
);

COMMENT ON COLUMN orchestrator.restore_drills.restore_seconds IS 'Time to restore (RTO) measured by the drill.';
COMMENT ON COLUMN orchestrator.restore_drills.backup_age IS 'Age of the restored snapshot when the drill ran (RPO).';

CREATE INDEX restore_drills_backup_idx ON orchestrator.restore_drills (backup_id, finished_at DESC);

CREATE OR REPLACE VIEW orchestrator.latest_backups AS
SELECT p.profile,
       newest.id          AS newest_id,
       newest.finished_at AS newest_at,
       newest.bytes       AS newest_bytes,
       verified.id        AS newest_verified_id,
       verified.verified_at AS newest_verified_at,
       now() - verified.finished_at AS verified_backup_age,
       drill.backup_id    AS newest_drilled_id,
       drill.finished_at  AS newest_drill_at,
       drill.restore_seconds AS newest_drill_restore_seconds
FROM (SELECT DISTINCT profile FROM orchestrator.backups WHERE deleted_at IS NULL) p
LEFT JOIN LATERAL (
    SELECT id, finished_at, bytes FROM orchestrator.backups b
    WHERE b.profile = p.profile AND b.deleted_at IS NULL
    ORDER BY finished_at DESC LIMIT 1
) newest ON true
LEFT JOIN LATERAL (
    SELECT id, verified_at, finished_at FROM orchestrator.backups b
    WHERE b.profile = p.profile AND b.deleted_at IS NULL AND b.verify_status = 'passed'
    ORDER BY finished_at DESC LIMIT 1
) verified ON true
LEFT JOIN LATERAL (
    SELECT d.backup_id, d.finished_at, d.restore_seconds
    FROM orchestrator.restore_drills d JOIN orchestrator.backups b ON b.id = d.backup_id
    WHERE b.profile = p.profile AND d.status = 'passed'
    ORDER BY d.finished_at DESC LIMIT 1
) drill ON true;
