"""Writing checks to PostgreSQL: raw rows and their minute and hour rollups, in one statement.

A batch (one sweep, or an import's many) is sent once, as arrays, with each answered check's
latency bucket (ops/history/buckets.bucket_index, computed here). One statement inserts the rows
`checks` does not hold yet and folds exactly those into the rollups (data-modifying CTEs share the
INSERT's RETURNING), so a retried sweep or a rerun import never counts a check twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from ops.history.buckets import bucket_index
from ops.history.rows import CheckRow

# Per-status count columns; any status this version does not know is counted as pending (as the
# charts rank it).
STATUS_COLUMNS = {"down": "n_down", "degraded": "n_degraded", "pending": "n_pending", "maintenance": "n_maintenance"}
STATUS_COLUMNS["up"] = "n_up"
_KNOWN = ", ".join(f"'{s}'" for s in STATUS_COLUMNS if s != "pending")
_STATUS_COUNTS = ", ".join(
    f"count(*) FILTER (WHERE status NOT IN ({_KNOWN}))" if s == "pending" else f"count(*) FILTER (WHERE status = '{s}')"
    for s in STATUS_COLUMNS
)
_COLUMNS = (
    "service, bucket, checks, failures, counted, up, answered, latency_sum, latency_min, latency_max, "
    f"{', '.join(STATUS_COLUMNS.values())}, last_error, last_error_ts, latency_buckets"
)
_SUMMED = ("checks", "failures", "counted", "up", "answered", "latency_sum", *STATUS_COLUMNS.values())


def _rollup(table: str, unit: str) -> str:
    sums = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in _SUMMED)
    return f"""{table}_new AS (
    INSERT INTO {table} AS t ({_COLUMNS})
    SELECT service, date_trunc('{unit}', ts), count(*), count(*) FILTER (WHERE error IS NOT NULL),
        count(*) FILTER (WHERE status <> 'maintenance'),
        count(*) FILTER (WHERE status <> 'maintenance' AND error IS NULL),
        count(latency_ms) FILTER (WHERE error IS NULL), coalesce(sum(latency_ms) FILTER (WHERE error IS NULL), 0),
        min(latency_ms) FILTER (WHERE error IS NULL), max(latency_ms) FILTER (WHERE error IS NULL),
        {_STATUS_COUNTS},
        (array_agg(error ORDER BY ts DESC) FILTER (WHERE error IS NOT NULL))[1],
        max(ts) FILTER (WHERE error IS NOT NULL),
        mc_counts(array_agg(lb) FILTER (WHERE lb IS NOT NULL))
    FROM added GROUP BY 1, 2
    ON CONFLICT (service, bucket) DO UPDATE SET {sums},
        latency_min = least(t.latency_min, excluded.latency_min),
        latency_max = greatest(t.latency_max, excluded.latency_max),
        last_error = CASE WHEN excluded.last_error_ts IS NOT NULL
            AND (t.last_error_ts IS NULL OR excluded.last_error_ts >= t.last_error_ts)
            THEN excluded.last_error ELSE t.last_error END,
        last_error_ts = greatest(t.last_error_ts, excluded.last_error_ts),
        latency_buckets = mc_add_counts(t.latency_buckets, excluded.latency_buckets)
    RETURNING 1
)"""


# The session's TimeZone is UTC (the store's connections set it), so date_trunc cuts UTC minutes/hours.
WRITE_SQL = f"""
WITH src AS (
    SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::int[], %s::text[], %s::float8[], %s::int[],
        %s::text[], %s::int[]) AS s(ts, service, idx, status, latency_ms, http_status, error, lb)
), inserted AS (
    INSERT INTO checks (ts, service, idx, status, latency_ms, http_status, error)
    SELECT ts, service, idx, status, latency_ms, http_status, error FROM src
    ON CONFLICT DO NOTHING
    RETURNING service, ts
), added AS (
    SELECT src.* FROM src JOIN inserted USING (service, ts)
), {_rollup("checks_minute", "minute")}, {_rollup("checks_hour", "hour")}
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM checks_minute_new), (SELECT count(*) FROM checks_hour_new)"""


def write_rows(conn: psycopg.Connection, rows: Sequence[CheckRow], positions: Sequence[int]) -> int:
    """Insert the rows not stored yet and fold them into the rollups; returns how many were new.
    A (service, ts) given twice in one batch is stored once."""
    seen: set[tuple[str, object]] = set()
    columns: tuple[list, ...] = ([], [], [], [], [], [], [], [])
    ts, service, idx, status, latency, http_status, error, lb = columns
    for row, position in zip(rows, positions, strict=True):
        key = (row.service, row.ts)
        if key in seen:
            continue
        seen.add(key)
        ms = None if row.latency_ms is None else float(row.latency_ms)
        ts.append(row.ts)
        service.append(row.service)
        idx.append(position)
        status.append(row.status)
        latency.append(ms)
        http_status.append(row.http_status)
        error.append(row.error)
        lb.append(bucket_index(ms) if ms is not None and row.error is None else None)
    return conn.execute(WRITE_SQL, columns).fetchone()[0]
