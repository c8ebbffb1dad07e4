-- Which repository a restore drill restored from: NULL for this host's own backup directory,
-- the repository's name (`repositories:`) for a drill run from an off-site copy.

ALTER TABLE orchestrator.restore_drills ADD COLUMN repository text;

COMMENT ON COLUMN orchestrator.restore_drills.repository IS
    'The remote repository the drilled copy came from; NULL when it was this host''s own backup.';
