-- Backup catalog: one row per backup that was completed and verified (a failed backup leaves
-- no row), plus every verification run.

CREATE TABLE orchestrator.backups (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    profile         text        NOT NULL,
    label           text        NOT NULL,
    location        text        NOT NULL,
    host            text        NOT NULL,
    job_id          bigint      REFERENCES orchestrator.jobs (id) ON DELETE SET NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    bytes           bigint      NOT NULL CHECK (bytes >= 0),
    file_count      integer     NOT NULL CHECK (file_count >= 0),
    databases       text[]      NOT NULL DEFAULT '{}',
    manifest        jsonb       NOT NULL,
    manifest_sha256 text        NOT NULL CHECK (manifest_sha256 ~ '^[0-9a-f]{64}$'),
    verified_at     timestamptz,
    verify_status   text        CHECK (verify_status IN ('passed', 'failed')),
    verify_error    text,
    pinned          boolean     NOT NULL DEFAULT false,
    deleted_at      timestamptz,
    delete_reason   text,
    UNIQUE (profile, label)
);

COMMENT ON TABLE orchestrator.backups IS 'Completed backups; deleted ones keep their row with deleted_at and the reason.';

CREATE INDEX backups_profile_finished_idx ON orchestrator.backups (profile, finished_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE orchestrator.backup_verifications (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backup_id     bigint      NOT NULL REFERENCES orchestrator.backups (id) ON DELETE CASCADE,
    job_id        bigint      REFERENCES orchestrator.jobs (id) ON DELETE SET NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    status        text        NOT NULL CHECK (status IN ('passed', 'failed')),
    files_checked integer     NOT NULL,
    bytes_checked bigint      NOT NULL,
    error         text
);

CREATE INDEX backup_verifications_backup_idx ON orchestrator.backup_verifications (backup_id, finished_at DESC);

CREATE VIEW orchestrator.latest_backups AS
SELECT p.profile,
       newest.id          AS newest_id,
       newest.finished_at AS newest_at,
       newest.bytes       AS newest_bytes,
       verified.id        AS newest_verified_id,
       verified.verified_at AS newest_verified_at,
       now() - verified.finished_at AS verified_backup_age
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
) verified ON true;

COMMENT ON VIEW orchestrator.latest_backups IS 'Per profile: the newest backup and the newest one whose last verification passed.';
