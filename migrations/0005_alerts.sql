-- Alerts: one row per episode (a condition that fired, until it resolved), one row per
-- notification attempt per channel, and the episodes still firing.

CREATE TABLE orchestrator.alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule             text             NOT NULL CHECK (rule ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$'),
    source           text             NOT NULL CHECK (source IN ('threshold', 'builtin')),
    subject          text             NOT NULL DEFAULT '',
    host             text             NOT NULL DEFAULT '',
    severity         text             NOT NULL CHECK (severity IN ('warning', 'critical')),
    state            text             NOT NULL DEFAULT 'firing' CHECK (state IN ('firing', 'resolved')),
    value            double precision CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    threshold        double precision CHECK (threshold NOT IN ('NaN', 'Infinity', '-Infinity')),
    summary          text             NOT NULL,
    details          jsonb            NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object'),
    first_seen_at    timestamptz      NOT NULL,
    fired_at         timestamptz      NOT NULL,
    last_seen_at     timestamptz      NOT NULL,
    last_notified_at timestamptz,
    notifications    integer          NOT NULL DEFAULT 0 CHECK (notifications >= 0),
    resolved_at      timestamptz,
    resolve_reason   text,
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK (first_seen_at <= fired_at)
);

COMMENT ON TABLE orchestrator.alerts IS
    'One row per alert episode: fired once, repeated while firing, resolved when the condition cleared.';
COMMENT ON COLUMN orchestrator.alerts.host IS 'The host the alert is about; empty for alerts about the orchestrator as a whole.';
COMMENT ON COLUMN orchestrator.alerts.severity IS 'The highest severity the episode reached.';
COMMENT ON COLUMN orchestrator.alerts.first_seen_at IS 'When the condition first held (before for: elapsed).';

-- At most one firing episode per rule, subject and host, whichever worker evaluates: a second
-- evaluator's INSERT ... ON CONFLICT DO NOTHING finds the first one's row.
CREATE UNIQUE INDEX alerts_one_firing_idx ON orchestrator.alerts (rule, subject, host) WHERE state = 'firing';
CREATE INDEX alerts_fired_idx ON orchestrator.alerts (fired_at DESC);
CREATE INDEX alerts_resolved_idx ON orchestrator.alerts (resolved_at DESC) WHERE resolved_at IS NOT NULL;

CREATE TABLE orchestrator.alert_deliveries (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id   bigint      NOT NULL REFERENCES orchestrator.alerts (id) ON DELETE CASCADE,
    channel    text        NOT NULL,
    event      text        NOT NULL CHECK (event IN ('firing', 'escalated', 'repeat', 'resolved')),
    severity   text        NOT NULL CHECK (severity IN ('warning', 'critical')),
    delivered  boolean     NOT NULL,
    attempts   integer     NOT NULL CHECK (attempts >= 0),
    error      text,
    duration_ms double precision,
    sent_at    timestamptz NOT NULL DEFAULT now(),
    sent_by    text        NOT NULL
);

COMMENT ON TABLE orchestrator.alert_deliveries IS
    'One row per notification per channel; error is the last attempt''s redacted error when not delivered.';

CREATE INDEX alert_deliveries_alert_idx ON orchestrator.alert_deliveries (alert_id, sent_at);

-- The job_failed built-in alert reads recently failed jobs every few minutes; failed jobs are
-- few, so this index stays small and costs nothing on the hot path of succeeding jobs.
CREATE INDEX jobs_failed_finished_idx ON orchestrator.jobs (finished_at) WHERE state = 'failed';

CREATE VIEW orchestrator.open_alerts AS
SELECT a.id, a.rule, a.subject, a.host, a.severity, a.value, a.threshold, a.summary, a.details,
       a.first_seen_at, a.fired_at, now() - a.fired_at AS firing_for, a.last_seen_at,
       a.last_notified_at, a.notifications,
       (SELECT count(*) FROM orchestrator.alert_deliveries d WHERE d.alert_id = a.id AND NOT d.delivered) AS failed_deliveries
FROM orchestrator.alerts a
WHERE a.state = 'firing';

COMMENT ON VIEW orchestrator.open_alerts IS 'Alerts firing now, one row per rule, subject and host.';
