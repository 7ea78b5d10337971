"""The PostgreSQL store's named queries over raw checks and rollups (SQL text and row shaping).

Raw rows answer while a window starts within the store's `memory` (all of the raw retention for a
small fleet, a couple of hours at 1,000 services: never millions of raw rows). Beyond it, while the
minute rollups reach back to the window's start, a window reads minutes up to its first whole hour
and hours from there (`edge_rollups`: ~60 + 24 rows a service for a day); further back, hours only.
A rollup row counts whole when its minute or hour ends after the window's start (so a 30-day window
may reach up to an hour further back, a 24 h one up to a minute). The rollups hold the raw rows
before the fold mark (ops/history/postgres_write.py); the rows after it (about the last minute) are
rolled up here, in the same statement, so the answer never waits for a fold. Each such statement
also names the mark as last read (`mark`): the mark only moves forward, so that bound leaves out no
unfolded row, and it lets the planner find the few rows after it through the `ts` index (against the
mark's own subquery alone it guessed a third of the table: a scan of 8.6 M rows, ~2-4 s, on a day
of 1,000 services).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ops.fleet import SEVERITY
from ops.history.postgres_write import ROLLUP_COLUMNS, STATUS_COLUMNS, UNFOLDED, rollup_select
from ops.history.rows import ChartPoint, CheckRow

ROW = "ts, service, status, latency_ms, http_status, error"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNITS = {"checks_minute": timedelta(minutes=1), "checks_hour": timedelta(hours=1)}
_RANKED = [s for s in SEVERITY if s in STATUS_COLUMNS]  # worst first
RAW_RANK = "CASE status " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(_RANKED))
RAW_RANK += f" ELSE {_RANKED.index('pending')} END"
ROLLUP_WORST = "CASE " + " ".join(f"WHEN sum({STATUS_COLUMNS[s]}) > 0 THEN '{s}'" for s in _RANKED) + " END"


def unfolded(mark: datetime) -> str:
    """The raw rows not in the rollups yet, given a fold mark read earlier (see the module docstring)."""
    return f"checks WHERE ts >= '{mark.astimezone(UTC).isoformat()}'::timestamptz AND {UNFOLDED}"


def rollups(table: str, mark: datetime) -> str:
    """`table`'s rows plus the rows not folded into it yet, as one relation named `r`."""
    unit = {"checks_minute": "minute", "checks_hour": "hour"}[table]
    tail = rollup_select(unit, unfolded(mark))
    return f"(SELECT {ROLLUP_COLUMNS} FROM {table} UNION ALL SELECT {ROLLUP_COLUMNS} FROM ({tail}) tail) AS r"


EDGES = "minute edges, hours inside"  # _source's answer for a window the minute rollups reach


def edge_rollups(start: datetime, service: str | None, mark: datetime) -> tuple[str, list]:
    """The rollup rows of a window from `start` (minutes before its first whole hour, hours from it,
    and the rows not folded yet by minute), of one service or all, as one relation named `r`."""
    hour = UNITS["checks_hour"]
    split = EPOCH + hour * -(-(start - EPOCH) // hour)  # start, rounded up to a whole hour
    only, extra = (" AND service = %s", [service]) if service is not None else ("", [])
    tail = rollup_select("minute", unfolded(mark))
    edge = start - UNITS["checks_minute"]
    sql = f"""(SELECT {ROLLUP_COLUMNS} FROM checks_minute WHERE bucket > %s AND bucket < %s{only}
    UNION ALL SELECT {ROLLUP_COLUMNS} FROM checks_hour WHERE bucket >= %s{only}
    UNION ALL SELECT {ROLLUP_COLUMNS} FROM ({tail}) tail WHERE bucket > %s{only}) AS r"""
    return sql, [edge, split, *extra, split, *extra, edge, *extra]


def edge_uptime_sql(start: datetime, service: str | None, mark: datetime) -> tuple[str, list]:
    """Counted and passed checks per service over a window from `start`, read from `edge_rollups`."""
    source, args = edge_rollups(start, service, mark)
    return f"SELECT service, sum(counted), sum(up) FROM {source} GROUP BY service", args


def check_row(record: tuple) -> CheckRow:
    ts, service, status, latency, http_status, error = record
    return CheckRow(ts.astimezone(UTC), service, status, latency, http_status, error)


def epoch_ms(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(milliseconds=1)


def recent_sql(service, since, sweeps, per_service) -> tuple[str, list]:
    """The query of recent_checks(): filters, then the last sweeps, then the last rows per service."""
    where, args = ["TRUE"], []
    if service is not None:
        where.append("service = %s")
        args.append(service)
    if since is not None:
        where.append("ts >= %s")
        args.append(since)
    cond = " AND ".join(where)
    if sweeps is not None:
        last = f"SELECT DISTINCT ts FROM checks WHERE {cond} ORDER BY ts DESC LIMIT %s"
        cond += f" AND ts >= (SELECT min(ts) FROM ({last}) s)"
        args = [*args, *args, sweeps]
    if per_service is None:
        return f"SELECT {ROW} FROM checks WHERE {cond} ORDER BY ts, idx", args
    ranked = f"SELECT *, row_number() OVER (PARTITION BY service ORDER BY ts DESC) AS rn FROM checks WHERE {cond}"
    return f"SELECT {ROW} FROM ({ranked}) r WHERE rn <= %s ORDER BY ts, idx", [*args, per_service]


SPARK_SQL = """
SELECT n.name, c.ts, c.latency_ms, c.status, c.error
FROM unnest(%s::text[]) AS n(name)
CROSS JOIN LATERAL (
    SELECT ts, latency_ms, status, error FROM checks
    WHERE service = n.name AND ts >= %s ORDER BY ts DESC LIMIT %s
) c ORDER BY n.name, c.ts"""

RAW_CHART_SQL = f"""
SELECT floor(extract(epoch FROM ts) / %(step)s)::bigint AS bin,
    min(ts), avg(latency_ms) FILTER (WHERE error IS NULL), min({RAW_RANK}),
    count(*) FILTER (WHERE error IS NOT NULL), count(*),
    (array_agg(error ORDER BY ts DESC) FILTER (WHERE error IS NOT NULL))[1]
FROM checks WHERE service = %(service)s AND ts >= %(start)s
GROUP BY bin ORDER BY bin"""


def rollup_chart_sql(table: str, mark: datetime) -> str:
    return f"""
SELECT floor(extract(epoch FROM bucket) / %(step)s)::bigint AS bin,
    greatest(min(bucket), %(start)s), sum(latency_sum) / nullif(sum(answered), 0), {ROLLUP_WORST},
    sum(failures)::int, sum(checks)::int,
    (array_agg(last_error ORDER BY last_error_ts DESC) FILTER (WHERE last_error IS NOT NULL))[1]
FROM {rollups(table, mark)} WHERE service = %(service)s AND bucket > %(start)s - %(unit)s
GROUP BY bin ORDER BY bin"""


def chart_point(record: tuple, raw_rank: bool) -> ChartPoint:
    _, ts, latency, status, failed, checks, error = record
    status = _RANKED[status] if raw_rank else status
    return ChartPoint(ts.astimezone(UTC), None if latency is None else float(latency), status, failed, checks, error)


def uptime_sql(table: str | None, starts: list[datetime], service: str | None, mark: datetime) -> tuple[str, list]:
    """One scan for every window read from one source: counted and passed checks per window."""
    args: list = []
    columns = []
    if table is None:
        for start in starts:
            columns.append(
                "count(*) FILTER (WHERE ts >= %s AND status <> 'maintenance'),"
                " count(*) FILTER (WHERE ts >= %s AND status <> 'maintenance' AND error IS NULL)"
            )
            args += [start, start]
        source, key = "checks", "ts"
    else:
        unit = UNITS[table]
        for start in starts:
            columns.append("sum(counted) FILTER (WHERE bucket > %s), sum(up) FILTER (WHERE bucket > %s)")
            args += [start - unit, start - unit]
        source, key = rollups(table, mark), "bucket"
    where = f"{key} > %s" if table else f"{key} >= %s"
    args.append(min(starts) - UNITS[table] if table else min(starts))
    if service is not None:
        where += " AND service = %s"
        args.append(service)
    return f"SELECT service, {', '.join(columns)} FROM {source} WHERE {where} GROUP BY service", args


def percent(up, counted) -> float | None:
    return None if not counted else round(100.0 * float(up) / float(counted), 3)


RAW_PERCENTILE_SQL = """
SELECT coalesce(service, '*'), percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY latency_ms)
FROM checks WHERE ts >= %s AND error IS NULL AND latency_ms IS NOT NULL {service}
GROUP BY GROUPING SETS ((service), ())"""


def rollup_counts_sql(table: str, service: str | None, mark: datetime) -> str:
    only = "AND service = %s" if service is not None else ""
    return counts_sql(rollups(table, mark), f"r.bucket > %s {only} AND")


def counts_sql(source: str, where: str = "") -> str:
    """Answered checks per service and latency bucket over the rollup rows `r` (the caller pools the
    fleet's: a GROUPING SETS for it cost a third more, and generate_subscripts with two subscripts
    per element another third, over the ~1 M elements of a day at 1,000 services)."""
    return f"""
SELECT service, array_lower(r.latency_buckets, 1) + u.o - 1, sum(u.c)::bigint
FROM {source} CROSS JOIN LATERAL unnest(r.latency_buckets) WITH ORDINALITY AS u(c, o)
WHERE {where} u.c > 0
GROUP BY 1, 2"""


LAST_RUNS_SQL = f"""
SELECT n.name, last.*, tail.failures, tail.successes, since.ts, err.error
FROM unnest(%s::text[]) AS n(name)
CROSS JOIN LATERAL (
    SELECT {ROW} FROM checks WHERE service = n.name ORDER BY ts DESC LIMIT 1
) last
CROSS JOIN LATERAL (
    SELECT
        (SELECT count(*) FROM checks c WHERE c.service = n.name AND c.error IS NOT NULL AND c.ts >
            coalesce((SELECT max(ts) FROM checks o WHERE o.service = n.name AND o.error IS NULL), '-infinity')),
        (SELECT count(*) FROM checks c WHERE c.service = n.name AND c.error IS NULL AND c.ts >
            coalesce((SELECT max(ts) FROM checks f WHERE f.service = n.name AND f.error IS NOT NULL), '-infinity'))
) tail(failures, successes)
CROSS JOIN LATERAL (
    SELECT min(ts) FROM checks c WHERE c.service = n.name AND c.ts >
        coalesce((SELECT max(ts) FROM checks d WHERE d.service = n.name AND d.status <> last.status), '-infinity')
) since(ts)
LEFT JOIN LATERAL (
    SELECT error FROM checks e WHERE e.service = n.name AND e.error IS NOT NULL ORDER BY ts DESC LIMIT 1
) err ON TRUE"""

TALLIES_SQL = """
SELECT service, count(*) FILTER (WHERE status <> 'maintenance'),
    count(*) FILTER (WHERE status <> 'maintenance' AND error IS NULL),
    {latencies}
FROM checks WHERE ts >= %s GROUP BY service"""
TALLY_LATENCIES = "array_agg(latency_ms ORDER BY latency_ms) FILTER (WHERE error IS NULL AND latency_ms IS NOT NULL)"
