-- Off-site copies: one row per backup and remote repository (`repositories:` in the
-- configuration), from the moment a copy-backup job starts sending it. A copy is 'present' only
-- once every file was sent, read back and matched against the manifest, and the manifest itself
-- was committed last; until then it is 'copying' (and a restarted job resumes it). Every reading
-- back of a copy is kept in backup_copy_verifications.

CREATE TABLE orchestrator.backup_copies (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backup_id      bigint      NOT NULL REFERENCES orchestrator.backups (id) ON DELETE CASCADE,
    repository     text        NOT NULL,
    -- Where the copy is, relative to the repository's path: <profile>/<label>.
    location       text        NOT NULL,
    state          text        NOT NULL CHECK (state IN ('copying', 'present', 'deleted')),
    job_id         bigint      REFERENCES orchestrator.jobs (id) ON DELETE SET NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    copied_at      timestamptz,
    bytes          bigint      NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    -- Sent by the job that completed the copy; less than bytes when it resumed an earlier attempt.
    bytes_sent     bigint      NOT NULL DEFAULT 0 CHECK (bytes_sent >= 0),
    verified_at    timestamptz,
    verify_status  text        CHECK (verify_status IN ('passed', 'failed')),
    verify_error   text,
    -- Why the last attempt at copying stopped short (cleared when the copy completes).
    last_error     text,
    deleted_at     timestamptz,
    delete_reason  text,
    UNIQUE (backup_id, repository),
    CHECK (state <> 'present' OR copied_at IS NOT NULL)
);

COMMENT ON TABLE orchestrator.backup_copies IS
    'Copies of backups in remote repositories: copying until every file was sent and read back, then present; deleted ones keep their row.';

CREATE INDEX backup_copies_repository_idx ON orchestrator.backup_copies (repository, copied_at DESC) WHERE state = 'present';

CREATE TABLE orchestrator.backup_copy_verifications (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    copy_id       bigint      NOT NULL REFERENCES orchestrator.backup_copies (id) ON DELETE CASCADE,
    job_id        bigint      REFERENCES orchestrator.jobs (id) ON DELETE SET NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    status        text        NOT NULL CHECK (status IN ('passed', 'failed')),
    files_checked integer     NOT NULL,
    bytes_checked bigint      NOT NULL,
    error         text
);

CREATE INDEX backup_copy_verifications_copy_idx ON orchestrator.backup_copy_verifications (copy_id, finished_at DESC);

-- Per profile and repository: when the backup in the newest copy that is present and passed
-- its reading back was taken (`status` and the copy_stale alert judge copies by it).
CREATE VIEW orchestrator.latest_copies AS
SELECT b.profile, c.repository, max(b.finished_at) AS newest_backup_at
FROM orchestrator.backup_copies c JOIN orchestrator.backups b ON b.id = c.backup_id
WHERE c.state = 'present' AND c.verify_status = 'passed'
GROUP BY b.profile, c.repository;
