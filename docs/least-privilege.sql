-- Least-privilege setup for the orchestrator's database role (PostgreSQL 14 or later).
-- Run as a superuser, naming the role, the orchestrator's database and the application database:
--   psql -v role=orchestrator -v orchestrator_db=orchestrator -v app_db=trading_agent -f docs/least-privilege.sql
-- then give the role a password with \password orchestrator.

-- The role the worker and the CLI log in as: not a superuser, creates no roles.
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEROLE;

-- Its own schema: `orchestrator migrate`, run as this role, creates schema orchestrator and owns it.
GRANT CONNECT, CREATE ON DATABASE :"orchestrator_db" TO :"role";

-- Backups: pg_dump reads every schema, table and sequence it dumps.
GRANT pg_read_all_data TO :"role";

-- Health: other roles' sessions, transactions and queries in pg_stat_activity.
GRANT pg_read_all_stats TO :"role";

-- Restores and restore drills create (and drop) their own databases.
ALTER ROLE :"role" CREATEDB;

-- VACUUM, ANALYZE and REINDEX. PostgreSQL 17 and later:
--   GRANT pg_maintain TO :"role";
-- Before 17 only a table's owner may (for VACUUM and ANALYZE also the database's owner): run
-- those jobs through a `databases:` entry whose url_env logs in as the owner, or leave them to
-- autovacuum. Without it they report each table as skipped and fail when nothing was done.

-- Retention: SELECT and DELETE on each table a retention policy names, in its database.
\connect :"app_db"
GRANT SELECT, DELETE ON public.trades TO :"role";
