-- The dashboard benchmark's data set (psql -v jobs=N -v host=NAME): a year of finished jobs with
-- their runs, a few queued and running ones, 30 days of health runs every 5 minutes with the
-- samples the sampler records for one host, a year of daily health rollups, the backups of three
-- profiles with verifications and drills, and alerts with deliveries. Rows go in oldest first, so
-- ids grow with time as on a live system.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- Jobs finished evenly over the last 365 days. The kinds in the proportions a host running the
-- example schedules sees them: health and check-alerts every few minutes, maintenance and SQL
-- often, backups, drills and pruning rarely. 2% failed, 1% cancelled.
INSERT INTO orchestrator.jobs (kind, target, args, queue, state, attempts, enqueued_by, created_at, run_at, started_at, finished_at, last_error)
SELECT k.kind, k.target, k.args, k.queue, s.state, CASE WHEN s.state = 'failed' THEN 3 ELSE 1 END,
       'scheduler', t - interval '2 seconds', t - interval '2 seconds', t - k.seconds * interval '1 second', t,
       CASE WHEN s.state = 'failed' THEN 'exit status 1: ' || k.kind || ' failed on ' || coalesce(k.target, 'this host') END
FROM generate_series(1, :jobs) i,
     LATERAL (SELECT now() - interval '1 minute' - ((:jobs - i)::float8 / :jobs) * interval '365 days' AS t) x,
     LATERAL (SELECT CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 100 = 1 THEN 'cancelled' ELSE 'succeeded' END AS state) s,
     LATERAL (SELECT * FROM (VALUES
         -- bucket of i % 1000 (upper bound, exclusive), kind, target, args, queue, seconds
         (250, 'health', NULL, '{}', 'host:' || :'host', 1.2),
         (500, 'check-alerts', NULL, '{}', 'default', 0.3),
         (700, 'sql', 'refresh-planner-stats', '{}', 'default', 4.0),
         (800, 'vacuum', 'trading', '{"auto": true}', 'default', 12.0),
         (850, 'analyze', 'trading', '{}', 'default', 3.0),
         (880, 'reindex', 'trading', '{"table": "trades"}', 'default', 40.0),
         (930, 'retention', 'old-trades', '{}', 'default', 6.0),
         (960, 'file-retention', 'trading-logs', '{}', 'host:' || :'host', 0.5),
         (990, 'noop', NULL, '{"ms": 10}', 'default', 0.01),
         (993, 'backup', 'daily', '{}', 'host:' || :'host', 95.0),
         (995, 'backup', 'full', '{}', 'host:' || :'host', 400.0),
         (996, 'backup', 'system', '{}', 'host:' || :'host', 8.0),
         (998, 'restore-drill', 'latest', '{"profile": "daily"}', 'host:' || :'host', 120.0),
         (1000, 'prune-history', NULL, '{}', 'default', 20.0)
     ) v(upto, kind, target, args, queue, seconds) WHERE i % 1000 < v.upto ORDER BY v.upto LIMIT 1) k0,
     LATERAL (SELECT k0.kind, k0.target, k0.args::jsonb AS args, k0.queue, k0.seconds) k;

INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid, started_at, finished_at, status, result, error)
SELECT id, attempts, :'host' || ':4242', :'host', 4242, started_at, finished_at, state,
       CASE WHEN state = 'succeeded' THEN jsonb_build_object('duration_ms', round(extract(epoch FROM finished_at - started_at) * 1000)) END,
       last_error
FROM orchestrator.jobs;

-- What is in flight now: queued jobs (two due, eight later) and two running ones with their runs.
INSERT INTO orchestrator.jobs (kind, target, args, state, run_at, enqueued_by)
SELECT 'noop', NULL, '{"ms": 10}', 'queued', now() + (i - 2) * interval '1 hour', 'cli' FROM generate_series(1, 10) i;
INSERT INTO orchestrator.workers (id, host, pid, queues, concurrency, version, started_at, heartbeat_at)
VALUES (:'host' || ':4242', :'host', 4242, ARRAY['default', 'host:' || :'host'], 2, 'bench', now() - interval '3 days', now());
WITH running AS (
    INSERT INTO orchestrator.jobs (kind, target, state, attempts, lease_until, locked_by, enqueued_by, started_at)
    VALUES ('vacuum', 'trading', 'running', 1, now() + interval '1 hour', :'host' || ':4242', 'scheduler', now() - interval '30 seconds'),
           ('sql', 'refresh-planner-stats', 'running', 1, now() + interval '1 hour', :'host' || ':4242', 'scheduler', now() - interval '5 seconds')
    RETURNING id, started_at
)
INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid, started_at, status)
SELECT id, 1, :'host' || ':4242', :'host', 4242, started_at, 'running' FROM running;

-- The series one health run samples on this host: system, two mounts, two databases, the
-- server, the dead-tuple and biggest tables, a unit, a port, an HTTP check and a SQL check.
-- base and amplitude shape a daily wave with noise.
CREATE TEMP TABLE series (category text, subject text, metric text, unit text, base float8, amplitude float8);
INSERT INTO series VALUES
    ('system', :'host', 'cpu.cores', 'count', 2, 0),
    ('system', :'host', 'cpu.usage_percent', 'percent', 35, 25),
    ('system', :'host', 'cpu.iowait_percent', 'percent', 3, 2),
    ('system', :'host', 'cpu.steal_percent', 'percent', 1, 1),
    ('system', :'host', 'load.1m', NULL, 0.9, 0.7),
    ('system', :'host', 'load.5m', NULL, 0.9, 0.5),
    ('system', :'host', 'load.15m', NULL, 0.9, 0.4),
    ('system', :'host', 'load.per_core', NULL, 0.45, 0.35),
    ('system', :'host', 'memory.used_percent', 'percent', 55, 10),
    ('system', :'host', 'memory.total_bytes', 'bytes', 8.2e9, 0),
    ('system', :'host', 'memory.available_bytes', 'bytes', 3.7e9, 0.8e9),
    ('system', :'host', 'swap.used_percent', 'percent', 2, 1),
    ('system', :'host', 'temperature.celsius', 'celsius', 52, 8),
    ('system', :'host', 'uptime.seconds', 'seconds', 2.6e6, 0),
    ('system', '/', 'disk.used_percent', 'percent', 48, 2),
    ('system', '/', 'disk.used_bytes', 'bytes', 3.8e10, 1e9),
    ('system', '/', 'disk.free_bytes', 'bytes', 4.2e10, 1e9),
    ('system', '/', 'disk.total_bytes', 'bytes', 8e10, 0),
    ('system', '/', 'disk.inodes_used_percent', 'percent', 12, 0.5),
    ('system', '/var/backups', 'disk.used_percent', 'percent', 71, 6),
    ('system', '/var/backups', 'disk.used_bytes', 'bytes', 1.4e11, 1e10),
    ('system', '/var/backups', 'disk.free_bytes', 'bytes', 6e10, 1e10),
    ('system', '/var/backups', 'disk.total_bytes', 'bytes', 2e11, 0),
    ('system', '/var/backups', 'disk.inodes_used_percent', 'percent', 1, 0.1),
    ('postgres', 'trading', 'pg.up', 'boolean', 1, 0),
    ('postgres', 'trading', 'pg.size_bytes', 'bytes', 2.1e10, 5e8),
    ('postgres', 'trading', 'pg.connections', 'count', 14, 6),
    ('postgres', 'trading', 'pg.xid_age', 'xids', 9e7, 3e7),
    ('postgres', 'trading', 'pg.xid_wraparound_percent', 'percent', 4.3, 1.4),
    ('postgres', 'trading', 'pg.xact_total', 'count', 4e9, 1e7),
    ('postgres', 'trading', 'pg.deadlocks_total', 'count', 3, 0),
    ('postgres', 'trading', 'pg.cache_hit_percent', 'percent', 99.2, 0.6),
    ('postgres', 'trading', 'pg.tps', 'per_second', 450, 300),
    ('postgres', 'trading', 'pg.oldest_table_xid_age', 'xids', 1.5e8, 4e7),
    ('postgres', 'orchestrator', 'pg.up', 'boolean', 1, 0),
    ('postgres', 'orchestrator', 'pg.size_bytes', 'bytes', 1.2e9, 1e8),
    ('postgres', 'orchestrator', 'pg.connections', 'count', 4, 1),
    ('postgres', 'orchestrator', 'pg.xid_age', 'xids', 9e7, 3e7),
    ('postgres', 'orchestrator', 'pg.cache_hit_percent', 'percent', 99.8, 0.2),
    ('postgres', 'orchestrator', 'pg.tps', 'per_second', 12, 6),
    ('postgres', 'server', 'pg.connections_total', 'count', 20, 7),
    ('postgres', 'server', 'pg.max_connections', 'count', 100, 0),
    ('postgres', 'server', 'pg.connections_used_percent', 'percent', 20, 7),
    ('postgres', 'server', 'pg.in_recovery', 'boolean', 0, 0),
    ('postgres', 'server', 'pg.replicas', 'count', 0, 0),
    ('postgres', 'trading', 'pg.idle_in_transaction', 'count', 0.5, 0.5),
    ('postgres', 'trading', 'pg.locks_waiting', 'count', 0.3, 0.3),
    ('postgres', 'trading', 'pg.longest_transaction_seconds', 'seconds', 4, 3),
    ('postgres', 'trading/public.trades', 'pg.table.dead_tuples', 'count', 2e5, 1.5e5),
    ('postgres', 'trading/public.trades', 'pg.table.dead_percent', 'percent', 6, 4),
    ('postgres', 'trading/public.orders', 'pg.table.dead_tuples', 'count', 5e4, 4e4),
    ('postgres', 'trading/public.orders', 'pg.table.dead_percent', 'percent', 8, 5),
    ('postgres', 'trading/public.logs', 'pg.table.dead_tuples', 'count', 9e4, 5e4),
    ('postgres', 'trading/public.logs', 'pg.table.dead_percent', 'percent', 3, 2),
    ('postgres', 'trading/public.trades', 'pg.table.size_bytes', 'bytes', 9e9, 2e8),
    ('postgres', 'trading/public.trades', 'pg.table.vacuum_age_seconds', 'seconds', 40000, 30000),
    ('postgres', 'trading/public.logs', 'pg.table.size_bytes', 'bytes', 4e9, 3e8),
    ('postgres', 'trading/public.logs', 'pg.table.vacuum_age_seconds', 'seconds', 20000, 15000),
    ('service', 'postgresql', 'systemd.active', 'boolean', 1, 0),
    ('service', 'postgres', 'tcp.up', 'boolean', 1, 0),
    ('service', 'postgres', 'tcp.connect_ms', 'milliseconds', 0.3, 0.2),
    ('service', 'trading-api', 'http.up', 'boolean', 1, 0),
    ('service', 'trading-api', 'http.status', 'status', 200, 0),
    ('service', 'trading-api', 'http.response_ms', 'milliseconds', 25, 15),
    ('check', 'trades-24h', 'check.value', 'rows', 250000, 100000);

-- 30 days of runs every 5 minutes, each with every series.
INSERT INTO orchestrator.health_runs (host, taken_at, duration_ms, database_ms, samples, failed)
SELECT :'host', date_trunc('minute', now()) - k * interval '5 minutes', 1050 + random() * 200, 30 + random() * 30,
       (SELECT count(*) FROM series), 0
FROM generate_series(30 * 288 - 1, 0, -1) k;

INSERT INTO orchestrator.health_samples (run_id, host, taken_at, category, subject, metric, value, unit)
SELECT r.id, r.host, r.taken_at, s.category, s.subject, s.metric,
       greatest(0, s.base + s.amplitude * (0.7 * sin(extract(epoch FROM r.taken_at) / 86400 * 2 * pi()) + 0.3 * (random() * 2 - 1))),
       s.unit
FROM orchestrator.health_runs r CROSS JOIN series s
ORDER BY r.taken_at, s.metric, s.subject;

-- A year of daily rollups of the same series.
INSERT INTO orchestrator.health_daily (host, day, category, subject, metric, unit, min, avg, max, count, failed)
SELECT :'host', current_date - d, s.category, s.subject, s.metric, s.unit,
       greatest(0, s.base - s.amplitude), s.base + s.amplitude * 0.1 * (random() * 2 - 1), s.base + s.amplitude, 288, 0
FROM generate_series(365, 1, -1) d CROSS JOIN series s;

-- Backups over the year: daily every day, full every Sunday, system every Sunday. Retention
-- deleted all but the newest ones of each profile (their records stay, as history keeps them).
-- Each has its verification; daily gets a drill on the 1st of the month, full every quarter.
INSERT INTO orchestrator.backups (profile, label, location, host, started_at, finished_at, bytes, file_count, databases,
                                  manifest, manifest_sha256, verified_at, verify_status, deleted_at, delete_reason)
SELECT p.profile, to_char(day, 'YYYYMMDD') || 'T0200Z', '/var/backups/orchestrator/' || p.profile || '/' || to_char(day, 'YYYYMMDD') || 'T0200Z',
       :'host', day + interval '2 hours', day + interval '2 hours' + p.seconds * interval '1 second',
       (p.bytes * (1 + extract(doy FROM day) / 365.0))::bigint, p.files, p.databases,
       jsonb_build_object('version', 1, 'profile', p.profile, 'files', p.files, 'databases', to_jsonb(p.databases)),
       md5(p.profile || day::text) || md5(day::text || p.profile),
       day + interval '2 hours' + (p.seconds + 30) * interval '1 second', 'passed',
       CASE WHEN day < now() - p.kept THEN day + p.kept + interval '3 hours' END,
       CASE WHEN day < now() - p.kept THEN 'retention' END
FROM (VALUES ('daily', 95, 4.5e9, 120, ARRAY['trading'], interval '14 days', 1),
             ('full', 400, 2.2e10, 90000, ARRAY['trading'], interval '60 days', 7),
             ('system', 8, 4e6, 800, ARRAY[]::text[], interval '120 days', 7)) p(profile, seconds, bytes, files, databases, kept, every),
     generate_series(date_trunc('day', now()) - interval '364 days', date_trunc('day', now()) - interval '1 day', interval '1 day') day
WHERE p.every = 1 OR extract(dow FROM day) = 0
ORDER BY day, p.profile;

INSERT INTO orchestrator.backup_verifications (backup_id, started_at, finished_at, status, files_checked, bytes_checked)
SELECT id, finished_at, verified_at, 'passed', file_count, bytes FROM orchestrator.backups ORDER BY id;

INSERT INTO orchestrator.restore_drills (backup_id, started_at, finished_at, status, restore_seconds, backup_age, tables_checked)
SELECT id, finished_at + interval '2 hours', finished_at + interval '2 hours' + interval '130 seconds', 'passed', 128.5,
       interval '2 hours 2 minutes', 42
FROM orchestrator.backups
WHERE (profile = 'daily' AND extract(day FROM started_at) = 1)
   OR (profile = 'full' AND extract(day FROM started_at) <= 7 AND extract(month FROM started_at) IN (1, 4, 7, 10))
ORDER BY id;

-- Alerts: about one resolved episode every two days over the year, with its deliveries
-- (firing, one repeat, resolved) to two channels; three firing now.
INSERT INTO orchestrator.alerts (rule, source, subject, host, severity, state, value, threshold, summary,
                                 first_seen_at, fired_at, last_seen_at, last_notified_at, notifications, resolved_at, resolve_reason)
SELECT a.rule, a.source, a.subject, :'host', a.severity, 'resolved', a.value, a.threshold, a.summary,
       t, t, t + interval '50 minutes', t + interval '4 hours', 3, t + interval '5 hours', 'cleared'
FROM generate_series(1, 180) i,
     LATERAL (SELECT now() - interval '365 days' + i * interval '2 days' AS t) x,
     LATERAL (SELECT * FROM (VALUES
         (0, 'cpu.usage_percent', 'threshold', :'host', 'warning', 91.0, 85.0, 'cpu.usage_percent on ' || :'host' || ' is 91 % (warning at 85 %)'),
         (1, 'disk.used_percent', 'threshold', '/var/backups', 'warning', 83.0, 80.0, 'disk.used_percent of /var/backups is 83 % (warning at 80 %)'),
         (2, 'job_failed', 'builtin', 'vacuum/trading', 'warning', 1.0, NULL, 'job vacuum trading failed: exit status 1')
     ) v(n, rule, source, subject, severity, value, threshold, summary) WHERE v.n = i % 3) a;
INSERT INTO orchestrator.alerts (rule, source, subject, host, severity, value, threshold, summary, first_seen_at, fired_at, last_seen_at, last_notified_at, notifications)
VALUES ('disk.used_percent', 'threshold', '/var/backups', :'host', 'warning', 81.5, 80, 'disk.used_percent of /var/backups is 81.5 % (warning at 80 %)',
        now() - interval '3 hours', now() - interval '3 hours', now(), now() - interval '3 hours', 1),
       ('job_failed', 'builtin', 'reindex/trading', :'host', 'warning', 1, NULL, 'job reindex trading failed: exit status 1',
        now() - interval '40 minutes', now() - interval '40 minutes', now(), now() - interval '40 minutes', 1),
       ('pg.table.dead_percent', 'threshold', 'trading/public.orders', :'host', 'warning', 22, 20, 'pg.table.dead_percent of trading/public.orders is 22 % (warning at 20 %)',
        now() - interval '2 hours', now() - interval '1 hour', now(), now() - interval '1 hour', 1);
INSERT INTO orchestrator.alert_deliveries (alert_id, channel, event, severity, delivered, attempts, duration_ms, sent_at, sent_by)
SELECT a.id, c.channel, e.event, a.severity, true, 1, 180, e.at, :'host' || ':4242'
FROM orchestrator.alerts a
CROSS JOIN (VALUES ('ops-telegram'), ('ops-mail')) c(channel)
CROSS JOIN LATERAL (VALUES ('firing', a.fired_at), ('repeat', a.fired_at + interval '4 hours'), ('resolved', a.resolved_at)) e(event, at)
WHERE e.at IS NOT NULL AND e.at <= now()
ORDER BY e.at;
