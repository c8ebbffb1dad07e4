-- The dashboard's write actions (retry, cancel, enqueue a backup or a drill): who asked, when,
-- for which job, and what came of it. Written in the same transaction as the change itself, so
-- a job is never changed through the dashboard without its record; refusals are kept too.

CREATE TABLE orchestrator.web_actions (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL,
    action    text        NOT NULL CHECK (action IN ('retry', 'cancel', 'enqueue_backup', 'enqueue_drill')),
    -- No foreign key: history retention deletes old jobs, the record of what was done stays.
    job_id    bigint,
    target    text,
    outcome   text        NOT NULL,
    succeeded boolean     NOT NULL
);

COMMENT ON TABLE orchestrator.web_actions IS
    'One row per dashboard action that passed authentication: actor ("web (bearer)" / "web (session)" and the peer address), action, job, outcome.';
COMMENT ON COLUMN orchestrator.web_actions.outcome IS 'What happened: cancelled, cancel requested, requeued, enqueued, or why it was refused.';

CREATE INDEX web_actions_job_idx ON orchestrator.web_actions (job_id, at DESC);
CREATE INDEX web_actions_at_idx ON orchestrator.web_actions (at DESC);
