-- Rollups are folded once a minute from the raw rows instead of at every sweep
-- (ops/history/postgres_write.py, run by ops/history/postgres_upkeep.py): a sweep is one INSERT.
-- Raw rows at or after `folded_until` are not in the rollups yet; readers add them
-- (ops/history/postgres_read.py), so no figure waits for a fold.
-- `lb` is the row's latency bucket (ops/history/buckets.py), NULL for a failed or unanswered check.
ALTER TABLE checks ADD COLUMN lb integer;
-- Whether the row's writer put it into the rollups itself. Every row stored before this migration
-- was, and so is every row an older dashboard still writes during an upgrade (it does not name the
-- column, so it gets the default): the fold and the readers skip those, so none is counted twice.
-- This version names the column: false for a sweep's rows, true for a late row folded at once.
ALTER TABLE checks ADD COLUMN folded_at_write boolean NOT NULL DEFAULT true;

-- One row. Folding starts after the newest row stored before this migration.
CREATE TABLE rollup_state (
    one boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
    folded_until timestamptz NOT NULL
);
INSERT INTO rollup_state (folded_until)
    SELECT coalesce(max(ts) + interval '1 microsecond', 'epoch') FROM checks;
