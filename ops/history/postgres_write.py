"""Writing checks to PostgreSQL: raw rows and their minute and hour rollups, in one statement.

A batch (one sweep, or an import's many) is sent once, as arrays, with each answered check's
latency bucket (ops/history/buckets.bucket_index, computed here). Only rows `checks` did not hold
yet are folded into the rollups, so a retried sweep or a rerun import never counts a check twice.

Two statements do it. A live sweep (one timestamp, so one row per service and rollup row) takes the
fast one: a plain INSERT of the raw rows, then each rollup row updated in place by its one check
(built-in arithmetic and an array element set, no aggregate, no PL/pgSQL) and the missing ones
inserted. A plain INSERT refuses a row that is already stored, so a retried sweep fails it and is
written by the general one (`WRITE_SQL`): INSERT ... ON CONFLICT DO NOTHING, then one GROUP BY over
exactly the rows inserted, upserted into each rollup (data-modifying CTEs share the RETURNING).
Measured on 1,000 services (bench/history_scale.py): the general statement spends most of its time in
speculative insertion, the per-row PL/pgSQL array merge and the ordered aggregates.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import errors

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
# Writers of one database take this transaction lock first: two dashboards folding the same services
# into the same rollup rows in different orders would otherwise deadlock.
WRITE_LOCK = 0x6D635F777269  # "mc_wri"
_SOURCE = """SELECT * FROM unnest(%b::timestamptz[], %b::text[], %b::int[], %b::text[], %b::float8[], %b::int[],
        %b::text[], %b::int[]) AS s(ts, service, idx, status, latency_ms, http_status, error, lb)"""
_RAW = "ts, service, idx, status, latency_ms, http_status, error"


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
WITH src AS ({_SOURCE}), inserted AS (
    INSERT INTO checks ({_RAW}) SELECT {_RAW} FROM src
    ON CONFLICT DO NOTHING
    RETURNING service, ts
), added AS (
    SELECT src.* FROM src JOIN inserted USING (service, ts)
), {_rollup("checks_minute", "minute")}, {_rollup("checks_hour", "hour")}
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM checks_minute_new), (SELECT count(*) FROM checks_hour_new)"""


def _status(status: str) -> str:
    return f"(status NOT IN ({_KNOWN}))::int" if status == "pending" else f"(status = '{status}')::int"


# One check as a rollup delta: the columns of a rollup row, counted over that one check.
_DELTA = f"""SELECT service, ts, lb, 1 AS checks, (error IS NOT NULL)::int AS failures,
    (status <> 'maintenance')::int AS counted, (status <> 'maintenance' AND error IS NULL)::int AS up,
    (error IS NULL AND latency_ms IS NOT NULL)::int AS answered,
    CASE WHEN error IS NULL THEN coalesce(latency_ms, 0) ELSE 0 END AS latency_sum,
    CASE WHEN error IS NULL THEN latency_ms END AS answered_ms,
    {", ".join(f"{_status(s)} AS {c}" for s, c in STATUS_COLUMNS.items())},
    error, CASE WHEN error IS NOT NULL THEN ts END AS error_ts
FROM s"""


def _fold(table: str, unit: str) -> str:
    """Add each check to its rollup row in place, or insert the row. The array element is set only
    for an answered check (a subscript cannot be NULL), so the answered and the others are two UPDATEs."""
    update = f"""UPDATE {table} AS t SET {", ".join(f"{c} = t.{c} + d.{c}" for c in _SUMMED)},
        latency_min = least(t.latency_min, d.answered_ms), latency_max = greatest(t.latency_max, d.answered_ms),
        last_error = CASE WHEN d.error_ts IS NOT NULL AND (t.last_error_ts IS NULL OR d.error_ts >= t.last_error_ts)
            THEN d.error ELSE t.last_error END,
        last_error_ts = greatest(t.last_error_ts, d.error_ts){{buckets}}
    FROM d WHERE t.service = d.service AND t.bucket = date_trunc('{unit}', d.ts) AND d.lb IS {{answered}}
    RETURNING t.service"""
    element = ", latency_buckets[d.lb] = coalesce(t.latency_buckets[d.lb], 0) + 1"
    return f"""{table}_answered AS ({update.format(buckets=element, answered="NOT NULL")}),
{table}_other AS ({update.format(buckets="", answered="NULL")}),
{table}_new AS (
    INSERT INTO {table} ({_COLUMNS})
    SELECT service, date_trunc('{unit}', ts), {", ".join(_SUMMED[:6])}, answered_ms, answered_ms,
        {", ".join(STATUS_COLUMNS.values())}, error, error_ts,
        CASE WHEN lb IS NULL THEN '{{}}'::int[] ELSE array_fill(1, ARRAY[1], ARRAY[lb]) END
    FROM d WHERE service NOT IN (SELECT service FROM {table}_answered UNION ALL SELECT service FROM {table}_other)
)"""


SWEEP_SQL = f"""
WITH s AS MATERIALIZED ({_SOURCE}),
raw AS (INSERT INTO checks ({_RAW}) SELECT {_RAW} FROM s),
d AS MATERIALIZED ({_DELTA}),
{_fold("checks_minute", "minute")},
{_fold("checks_hour", "hour")}
SELECT count(*) FROM s"""
# Each rollup row is found through its primary key: a hash join would read the whole table.
_SWEEP_SETUP = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"


def write_rows(conn: psycopg.Connection, rows: Sequence[CheckRow], positions: Sequence[int]) -> int:
    """Insert the rows not stored yet and fold them into the rollups; returns how many were new.
    A (service, ts) given twice in one batch is stored once. Call it inside a transaction."""
    columns = _columns(rows, positions)
    if not columns[0]:
        return 0
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    if len(set(columns[0])) == 1:
        try:
            with conn.transaction():  # a savepoint: a row stored already undoes only this attempt
                conn.execute(_SWEEP_SETUP)
                return conn.execute(SWEEP_SQL, columns).fetchone()[0]
        except errors.UniqueViolation:
            pass  # a retried sweep (or another writer's rows): the general statement skips what is there
    return conn.execute(WRITE_SQL, columns).fetchone()[0]


def _columns(rows: Sequence[CheckRow], positions: Sequence[int]) -> tuple[list, ...]:
    """The batch as arrays (ts, service, idx, status, latency, http status, error, latency bucket)."""
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
    return columns
