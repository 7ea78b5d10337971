"""The PostgreSQL store's named queries over raw checks and rollups (SQL text and row shaping).

Raw rows answer while a window lies within the raw retention; beyond it the minute rollups answer
while they are kept, then the hour ones. A rollup row counts whole when its minute or hour ends
after the window's start (so a 30-day window may reach up to an hour further back). The rollups
hold the raw rows before the fold mark (ops/history/postgres_write.py); the rows after it (about the
last minute) are rolled up here, in the same statement, so the answer never waits for a fold.
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


def rollups(table: str) -> str:
    """`table`'s rows plus the rows not folded into it yet, as one relation named `r`."""
    unit = {"checks_minute": "minute", "checks_hour": "hour"}[table]
    tail = rollup_select(unit, f"checks WHERE {UNFOLDED}")
    return f"(SELECT {ROLLUP_COLUMNS} FROM {table} UNION ALL SELECT {ROLLUP_COLUMNS} FROM ({tail}) tail) AS r"


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


def rollup_chart_sql(table: str) -> str:
    return f"""
SELECT floor(extract(epoch FROM bucket) / %(step)s)::bigint AS bin,
    greatest(min(bucket), %(start)s), sum(latency_sum) / nullif(sum(answered), 0), {ROLLUP_WORST},
    sum(failures)::int, sum(checks)::int,
    (array_agg(last_error ORDER BY last_error_ts DESC) FILTER (WHERE last_error IS NOT NULL))[1]
FROM {rollups(table)} WHERE service = %(service)s AND bucket > %(start)s - %(unit)s
GROUP BY bin ORDER BY bin"""


def chart_point(record: tuple, raw_rank: bool) -> ChartPoint:
    _, ts, latency, status, failed, checks, error = record
    status = _RANKED[status] if raw_rank else status
    return ChartPoint(ts.astimezone(UTC), None if latency is None else float(latency), status, failed, checks, error)


def uptime_sql(table: str | None, starts: list[datetime], service: str | None) -> tuple[str, list]:
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
        source, key = rollups(table), "bucket"
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


def rollup_counts_sql(table: str, service: str | None) -> str:
    only = "AND service = %s" if service is not None else ""
    return f"""
SELECT coalesce(service, '*'), u.i, sum(r.latency_buckets[u.i])::bigint
FROM {rollups(table)} CROSS JOIN LATERAL generate_subscripts(r.latency_buckets, 1) AS u(i)
WHERE r.bucket > %s {only} AND r.latency_buckets[u.i] > 0
GROUP BY GROUPING SETS ((service, u.i), (u.i))"""


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
