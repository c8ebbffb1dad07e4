-- A stretch of missed occurrences is one row: after a long outage the scheduler records how many
-- occurrences it did not run and the first and last of them, instead of one row per occurrence.

ALTER TABLE orchestrator.schedule_occurrences
    ADD COLUMN occurrences     integer     NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
    ADD COLUMN last_occurrence timestamptz,
    ADD CONSTRAINT schedule_occurrences_range_check CHECK (
        (occurrences = 1 AND last_occurrence IS NULL)
        OR (outcome = 'missed' AND occurrences > 1 AND last_occurrence > scheduled_for)
    );

COMMENT ON TABLE orchestrator.schedule_occurrences IS
    'Every occurrence a scheduler decided: enqueued on time, enqueued late (caught up), or missed and not run; '
    'a run of missed occurrences is one row from scheduled_for through last_occurrence.';
COMMENT ON COLUMN orchestrator.schedule_occurrences.occurrences IS
    'How many occurrences the row stands for: 1, or the size of a missed range (sum it to count occurrences).';
COMMENT ON COLUMN orchestrator.schedule_occurrences.last_occurrence IS
    'The last occurrence of a missed range (NULL for a single occurrence).';
