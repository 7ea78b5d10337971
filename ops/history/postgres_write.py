"""Writing checks to PostgreSQL: a sweep is one INSERT; the rollups are folded from it once a minute.

A batch (one sweep, or an import's many) is sent once, as arrays, with each answered check's
latency bucket (ops/history/buckets.bucket_index, computed here and kept in `checks.lb`).

`rollup_state.folded_until` splits the raw rows: those before it are in the minute and hour rollups,
those at or after it are not yet, and readers add them (ops/history/postgres_read.py). So:
- a live sweep (newer than the mark) is a plain INSERT of its raw rows, nothing more;
- `fold_rows` (run about once a minute by the writer, ops/history/postgres_upkeep.py) adds the rows
  of the minutes closed since the mark to the rollups with one GROUP BY, and moves the mark;
- a row older than the mark (a held sweep written back late, an import) is inserted and folded at
  once by the general statement (`WRITE_SQL`): INSERT ... ON CONFLICT DO NOTHING, then one GROUP BY
  over exactly the rows inserted, upserted into each rollup. A row already stored is skipped, so a
  retried sweep or a rerun import never counts a check twice.
Writers and the fold take one transaction lock first (`WRITE_LOCK`), so the mark never moves under a
write. Measured on 1,000 services (bench/history_scale.py): folding at every sweep cost 45 ms a sweep,
two thirds of it updating the minute and hour rows; the INSERT alone 13 ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg
from psycopg import errors

from ops.history.buckets import bucket_index
from ops.history.rows import CheckRow, round_latency
from ops.probes import ProbeResult

# A batch as arrays: ts, service, idx, status, latency_ms, http_status, error, lb.
Columns = tuple[list, ...]

# Per-status count columns; any status this version does not know is counted as pending (as the
# charts rank it).
STATUS_COLUMNS = {"down": "n_down", "degraded": "n_degraded", "pending": "n_pending", "maintenance": "n_maintenance"}
STATUS_COLUMNS["up"] = "n_up"
_KNOWN = ", ".join(f"'{s}'" for s in STATUS_COLUMNS if s != "pending")


def _status_count(status: str, column: str) -> str:
    match = f"status NOT IN ({_KNOWN})" if status == "pending" else f"status = '{status}'"
    return f"count(*) FILTER (WHERE {match}) AS {column}"


_STATUS_COUNTS = ", ".join(_status_count(s, c) for s, c in STATUS_COLUMNS.items())
ROLLUP_COLUMNS = (
    "service, bucket, checks, failures, counted, up, answered, latency_sum, latency_min, latency_max, "
    f"{', '.join(STATUS_COLUMNS.values())}, last_error, last_error_ts, latency_buckets"
)
_SUMMED = ("checks", "failures", "counted", "up", "answered", "latency_sum", *STATUS_COLUMNS.values())
# Writers and the fold take this transaction lock first: the fold mark never moves under a write, and
# two dashboards folding the same services into the same rollup rows never deadlock.
WRITE_LOCK = 0x6D635F777269  # "mc_wri"
_SOURCE = """SELECT * FROM unnest(%b::timestamptz[], %b::text[], %b::int[], %b::text[], %b::float8[], %b::int[],
        %b::text[], %b::int[]) AS s(ts, service, idx, status, latency_ms, http_status, error, lb)"""
_RAW = "ts, service, idx, status, latency_ms, http_status, error, lb"


def rollup_select(unit: str, source: str) -> str:
    """The rollup rows (columns `ROLLUP_COLUMNS`) of the checks in `source`, per service and unit."""
    return f"""SELECT service, date_trunc('{unit}', ts) AS bucket, count(*) AS checks,
        count(*) FILTER (WHERE error IS NOT NULL) AS failures,
        count(*) FILTER (WHERE status <> 'maintenance') AS counted,
        count(*) FILTER (WHERE status <> 'maintenance' AND error IS NULL) AS up,
        count(latency_ms) FILTER (WHERE error IS NULL) AS answered,
        coalesce(sum(latency_ms) FILTER (WHERE error IS NULL), 0) AS latency_sum,
        min(latency_ms) FILTER (WHERE error IS NULL) AS latency_min,
        max(latency_ms) FILTER (WHERE error IS NULL) AS latency_max,
        {_STATUS_COUNTS},
        (array_agg(error ORDER BY ts DESC) FILTER (WHERE error IS NOT NULL))[1] AS last_error,
        max(ts) FILTER (WHERE error IS NOT NULL) AS last_error_ts,
        mc_counts(array_agg(lb) FILTER (WHERE lb IS NOT NULL)) AS latency_buckets
    FROM {source} GROUP BY 1, 2"""


def _upsert(table: str, unit: str, source: str) -> str:
    sums = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in _SUMMED)
    return f"""{table}_new AS (
    INSERT INTO {table} AS t ({ROLLUP_COLUMNS})
    {rollup_select(unit, source)}
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


def _rollups(source: str) -> str:
    return f"{_upsert('checks_minute', 'minute', source)}, {_upsert('checks_hour', 'hour', source)}"


# The session's TimeZone is UTC (the store's connections set it), so date_trunc cuts UTC minutes/hours.
WRITE_SQL = f"""
WITH src AS ({_SOURCE}), inserted AS (
    INSERT INTO checks ({_RAW}, folded_at_write) SELECT {_RAW}, true FROM src
    ON CONFLICT DO NOTHING
    RETURNING service, ts
), added AS (
    SELECT src.* FROM src JOIN inserted USING (service, ts)
), {_rollups("added")}
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM checks_minute_new), (SELECT count(*) FROM checks_hour_new)"""
# Rows newer than the mark: raw only (the fold adds them to the rollups later).
INSERT_SQL = f"INSERT INTO checks ({_RAW}, folded_at_write) SELECT {_RAW}, false FROM ({_SOURCE}) s"
INSERT_NEW_SQL = INSERT_SQL + " ON CONFLICT DO NOTHING"  # a retried sweep: what is stored is skipped
FOLDED_UNTIL_SQL = "SELECT folded_until FROM rollup_state"
# The raw rows the rollups do not hold yet: after the mark, and not put there by their writer (an
# older dashboard during an upgrade; see migration 0004).
UNFOLDED = f"ts >= ({FOLDED_UNTIL_SQL}) AND NOT folded_at_write"
FOLD_STEP_ROWS = 50_000  # a fold moves the mark over at most about this many rows per transaction
FOLD_SQL = f"""
WITH added AS (SELECT * FROM checks WHERE ts >= %(start)s AND ts < %(until)s AND NOT folded_at_write),
{_rollups("added")}, moved AS (UPDATE rollup_state SET folded_until = %(until)s RETURNING 1)
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM moved)"""
# Where a step of at most FOLD_STEP_ROWS rows from the mark ends: the first timestamp past them
# (a step ends before a timestamp, so a sweep's rows are never split).
STEP_END_SQL = "SELECT ts FROM checks WHERE ts >= %s ORDER BY ts OFFSET %s LIMIT 1"


def write_rows(conn: psycopg.Connection, rows: Sequence[CheckRow], positions: Sequence[int]) -> int:
    """write_columns() of CheckRows (imports, tests)."""
    return write_columns(conn, _columns(rows, positions))


def write_columns(conn: psycopg.Connection, columns: Columns) -> int:
    """Insert the rows not stored yet (folding at once those older than the fold mark); returns how
    many were new. `columns`: sweep_columns() or _columns(), no (service, ts) twice. Call it inside
    a transaction."""
    if not columns[0]:
        return 0
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    mark = conn.execute(FOLDED_UNTIL_SQL).fetchone()[0]  # read under the lock: the fold cannot move it now
    late = [i for i, ts in enumerate(columns[0]) if ts < mark]
    fresh = [i for i, ts in enumerate(columns[0]) if ts >= mark]
    added = 0
    if late:
        added += conn.execute(WRITE_SQL, _pick(columns, late)).fetchone()[0]
    if fresh:
        try:
            with conn.transaction():  # a savepoint: a row stored already undoes only this attempt
                added += conn.execute(INSERT_SQL, _pick(columns, fresh)).rowcount
        except errors.UniqueViolation:  # a retried sweep (or another writer's rows): skip what is there
            added += conn.execute(INSERT_NEW_SQL, _pick(columns, fresh)).rowcount
    return added


def _pick(columns: Columns, rows: list[int]) -> Columns:
    if len(rows) == len(columns[0]):
        return columns
    return tuple([column[i] for i in rows] for column in columns)


def fold_rows(conn: psycopg.Connection, until: datetime) -> tuple[int, datetime]:
    """Add the raw rows from the fold mark towards `until` to the rollups, at most about
    FOLD_STEP_ROWS of them, and move the mark past them; returns (rows folded, the mark now).
    Call it inside a transaction, and again while the mark is before `until`."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    start = conn.execute(FOLDED_UNTIL_SQL).fetchone()[0]
    if until <= start:
        return 0, start
    step = conn.execute(STEP_END_SQL, (start, FOLD_STEP_ROWS)).fetchone()
    if step is not None and start < step[0] < until:  # a backlog: one bounded step of it
        until = step[0]
    return conn.execute(FOLD_SQL, {"start": start, "until": until}).fetchone()[0], until


def sweep_columns(ts: datetime, results: Sequence[ProbeResult]) -> Columns:
    """One sweep as write_columns() takes it, in one pass (no row objects: at 1,000 services the
    rows cost more than the INSERT's wait on the server); a service given twice is stored once."""
    columns: Columns = ([], [], [], [], [], [], [], [])
    stamp, service, idx, status, latency, http_status, error, lb = columns
    seen: set[str] = set()
    for result in results:
        if result.service in seen:
            continue
        seen.add(result.service)
        ms = round_latency(result.latency_ms)
        text = result.error
        if text is not None and "\x00" in text:  # PostgreSQL text cannot hold NUL (a peer's bytes)
            text = text.replace("\x00", "")
        stamp.append(ts)
        service.append(result.service)
        idx.append(len(idx))
        status.append(result.status)
        latency.append(ms)
        http_status.append(result.http_status)
        error.append(text)
        lb.append(bucket_index(ms) if ms is not None and text is None else None)
    return columns


def join_columns(batches: Sequence[Columns]) -> Columns:
    """Several sweeps' columns as one batch (a (service, ts) in two of them kept once)."""
    if len(batches) == 1:
        return batches[0]
    joined: Columns = ([], [], [], [], [], [], [], [])
    seen: set[tuple[str, datetime]] = set()
    for batch in batches:
        for i, key in enumerate(zip(batch[1], batch[0], strict=True)):
            if key in seen:
                continue
            seen.add(key)
            for column, source in zip(joined, batch, strict=True):
                column.append(source[i])
    return joined


def _columns(rows: Sequence[CheckRow], positions: Sequence[int]) -> Columns:
    """The batch as arrays (ts, service, idx, status, latency, http status, error, latency bucket)."""
    seen: set[tuple[str, object]] = set()
    columns: Columns = ([], [], [], [], [], [], [], [])
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
