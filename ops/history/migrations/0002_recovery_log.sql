-- The recovery log (ops/history/postgres_recovery_log.py): one row per entry id, its latest state.
CREATE SEQUENCE recovery_log_seq;
CREATE TABLE recovery_log (
    key text PRIMARY KEY,  -- the entry's id as JSON text (5 and "5" differ), or "#<seq>" without one
    seq bigint NOT NULL,  -- taken again at every update: recent() is newest first by it
    service text,
    entry jsonb NOT NULL
);
CREATE INDEX recovery_log_seq_idx ON recovery_log (seq);
CREATE INDEX recovery_log_service_idx ON recovery_log (service, seq);
