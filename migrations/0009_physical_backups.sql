-- Physical base backups (pg_basebackup) live in the same catalog as logical ones. The WAL
-- position and timeline say which archived WAL a backup needs: retention of the WAL archive
-- keeps every segment from the oldest kept base backup's start on, and point-in-time restore
-- picks the newest base backup finished before its target.

ALTER TABLE orchestrator.backups
    ADD COLUMN method            text    NOT NULL DEFAULT 'logical' CHECK (method IN ('logical', 'physical')),
    ADD COLUMN timeline          integer CHECK (timeline > 0),
    ADD COLUMN start_lsn         pg_lsn,
    ADD COLUMN stop_lsn          pg_lsn,
    ADD COLUMN start_wal         text    CHECK (start_wal ~ '^[0-9A-F]{24}$'),
    ADD COLUMN system_identifier bigint,
    ADD CONSTRAINT backups_physical_position CHECK (
        method = 'logical'
        OR (timeline IS NOT NULL AND start_lsn IS NOT NULL AND stop_lsn IS NOT NULL AND start_wal IS NOT NULL
            AND system_identifier IS NOT NULL AND stop_lsn >= start_lsn)
    );

COMMENT ON COLUMN orchestrator.backups.method IS 'logical: pg_dump and file archives; physical: pg_basebackup of the whole cluster.';
COMMENT ON COLUMN orchestrator.backups.start_wal IS 'Physical: the first WAL segment the backup needs (archive retention keeps it and every later one).';
COMMENT ON COLUMN orchestrator.backups.stop_lsn IS 'Physical: the backup is consistent once WAL is replayed up to here.';

CREATE INDEX backups_physical_idx ON orchestrator.backups (system_identifier, stop_lsn) WHERE method = 'physical' AND deleted_at IS NULL;
