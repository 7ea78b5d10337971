-- State several dashboards over one database share (ops/history/postgres_recovery_state.py,
-- ops/history/postgres_recovery_log.py for the notification log, ops/notify/ledger.py).

-- Recovery policy state per service ('' holds the global switches). `settings` is the operator's
-- (maintenance, maintenance_until, auto, resets: written by any dashboard); `counters` is the
-- leader's (attempts, backoff, circuit: wall times). A reset clears counters and bumps `resets`, so
-- a leader's counter write made before it saw the reset is refused instead of undoing it.
CREATE SEQUENCE recovery_state_seq;
CREATE TABLE recovery_state (
    service text PRIMARY KEY,
    version bigint NOT NULL,  -- taken again at every write: readers fetch what changed since they looked
    settings jsonb NOT NULL DEFAULT '{}',
    counters jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text
);
CREATE INDEX recovery_state_version_idx ON recovery_state (version);

-- The notification delivery log: one row per delivery id, its latest state (as recovery_log).
CREATE SEQUENCE notification_log_seq;
CREATE TABLE notification_log (
    key text PRIMARY KEY,
    seq bigint NOT NULL,
    service text,
    entry jsonb NOT NULL
);
CREATE INDEX notification_log_seq_idx ON notification_log (seq);
CREATE INDEX notification_log_service_idx ON notification_log (service, seq);

-- Incidents the leader has announced and not yet closed: a new leader adopts them instead of
-- announcing the same outage again.
CREATE TABLE notify_incidents (
    service text PRIMARY KEY,
    id text NOT NULL,
    since timestamptz NOT NULL,
    reason text NOT NULL,
    reminders integer NOT NULL DEFAULT 0,
    opened_at timestamptz NOT NULL DEFAULT now()
);
