-- Point-in-time drills prove a restore reached exactly the moment asked for: workers write a
-- marker row every minute (while a physical backup profile is configured), and a drill checks
-- that the restored cluster holds exactly the markers written before its target.

CREATE TABLE orchestrator.recovery_markers (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    worker     text        NOT NULL
);

CREATE INDEX recovery_markers_written_idx ON orchestrator.recovery_markers (written_at);

COMMENT ON TABLE orchestrator.recovery_markers IS 'One row a minute per worker; point-in-time drills compare them with the restored copy. Kept 35 days.';

ALTER TABLE orchestrator.restore_drills
    ADD COLUMN method           text NOT NULL DEFAULT 'logical' CHECK (method IN ('logical', 'physical')),
    ADD COLUMN target_time      timestamptz,
    ADD COLUMN reached_time     timestamptz,
    ADD COLUMN reached_lsn      pg_lsn,
    ADD COLUMN rpo_seconds      double precision,
    ADD COLUMN markers_expected integer,
    ADD COLUMN markers_found    integer;

COMMENT ON COLUMN orchestrator.restore_drills.target_time IS 'Physical drills: the moment restored to (NULL: the end of the archive).';
COMMENT ON COLUMN orchestrator.restore_drills.reached_time IS 'Physical drills: commit time of the last transaction the restored copy replayed.';
COMMENT ON COLUMN orchestrator.restore_drills.rpo_seconds IS 'Physical drills: to the end of the archive, drill start minus reached_time (data an outage then would lose); to a moment, target minus reached_time.';
