-- Rollups are folded once a minute from the raw rows instead of at every sweep
-- (ops/history/postgres_write.py, run by ops/history/postgres_upkeep.py): a sweep is one INSERT.
-- Raw rows at or after `folded_until` are not in the rollups yet; readers add them
-- (ops/history/postgres_read.py), so no figure waits for a fold.
-- `lb` is the row's latency bucket (ops/history/buckets.py), NULL for a failed or unanswered check.
ALTER TABLE checks ADD COLUMN lb integer;

-- One row. Every raw row stored before this migration was folded at its sweep, so folding starts
-- after the newest one.
CREATE TABLE rollup_state (
    one boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
    folded_until timestamptz NOT NULL
);
INSERT INTO rollup_state (folded_until)
    SELECT coalesce(max(ts) + interval '1 microsecond', 'epoch') FROM checks;
