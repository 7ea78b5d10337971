"""History at scale (issue 13): rollups of 1,000 services, 90 days, 10 s interval.

    .venv/bin/python bench/history_scale.py [--services 1000] [--days 90] [--queries 200]

Embedded half: 90 days through Rollups.add would be 777 million checks, so the rollup files are
written in bulk instead: one synthetic closed bucket per hour (and per minute for the last 24 h)
for all services at once, built as numpy columns (360 checks per service-hour, ~0.3 % failed, a
latency histogram of 21 buckets around each service's own median) and encoded by the same
`encode_block` the store's writer uses. Then, in a fresh process each: the load time of the files,
the 30-day uptime (and percentile) query for one service, median of `--queries`; and the RSS of a
process holding 7 days of rollups (the issue's target: the embedded store within 250 MiB).

PostgreSQL half (`postgres_figures`): a throwaway PostgreSQL 15 cluster (tests/postgres_cluster.py,
fsync off, stopped by its PID and deleted at the end), the same 90 days of hour rollups and 24 h of
minute ones made by the server (generate_series), then `--pg-sweeps` live sweeps of every service
appended 10 s apart (p50/p90 of store.append), and `store_figures` for the 30-day queries. Then, in
the same cluster, the take-over (`takeover_figures`): two dashboards (`python -m dash_app`, bench/
common.py) over a loopback fleet of `--services` at `--interval`; `--kills` times the leader is
SIGKILLed by its PID and the follower timed until it leads and has finished a sweep, and a fresh
follower started. With `--raw-day` (~10 min more), a day of raw checks of the fleet (8.6 M rows,
made and folded by the server) and what the 24 h figures and a start-up cost over it: through the
store as open.py sizes it, and straight from the raw rows (`raw_day_figures`).
Just one of those: `--only takeover` / `--only raw-day`, each on a cluster of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psutil
import psycopg
from common import ROOT, env_summary

from ops.history.buckets import BUCKETS, bucket_value
from ops.history.embedded_file import encode_sweep
from ops.history.rollup import Rollups
from ops.history.rollup_blocks import Block
from ops.history.rollup_file import RollupFiles, encode_block, encode_names
from ops.history.rollup_ring import STATUS_INDEX, STATUSES

NOW = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
SHAPE = np.array([1, 2, 4, 7, 11, 16, 22, 28, 33, 36, 37, 36, 33, 28, 22, 16, 11, 7, 4, 2, 1], float)
SHAPE /= SHAPE.sum()
VALUES = np.array([bucket_value(i) for i in range(BUCKETS)])


def synthetic_block(grain: str, number: int, names: list[str], centers: np.ndarray, rng) -> Block:
    """One closed bucket of every service: 6 or 360 checks each, a few failed."""
    n, checks = len(names), 6 if grain == "minute" else 360
    failed = rng.binomial(checks, 0.003, n).astype(np.uint16)
    status = np.zeros((n, len(STATUSES)), np.uint16)
    status[:, STATUS_INDEX["up"]], status[:, STATUS_INDEX["down"]] = checks - failed, failed
    answered = (checks - failed).astype(np.uint16)
    center = centers + rng.integers(-1, 2, n)  # the median wanders a bucket either way
    counts = np.floor(answered[:, None] * SHAPE[None, :]).astype(np.int64)
    counts[:, 10] += answered - counts.sum(axis=1)
    bucket = center[:, None] + np.arange(-10, 11)[None, :]
    dense = np.zeros((n, BUCKETS), np.int64)
    np.add.at(dense, (np.repeat(np.arange(n), 21), bucket.ravel()), counts.ravel())
    latency_sum = (dense * VALUES).sum(axis=1)
    hist = None
    if grain == "hour":
        svc, b = np.nonzero(dense)
        offsets = np.concatenate(([0], np.cumsum(np.bincount(svc, minlength=n)))).astype(np.int32)
        hist = (offsets, b.astype(np.uint8), dense[svc, b].astype(np.uint16))
    lo, hi = VALUES[bucket[:, 0]].astype(np.float32), VALUES[bucket[:, -1]].astype(np.float32)
    error = (failed > 0).astype(np.int32)
    return Block(grain, number, names, status, failed, answered.copy(), answered, latency_sum, lo, hi,
                 ["timed out after 5.0 s"], error, hist)  # fmt: skip


def write_files(folder: Path, services: int, days: float, seed: int = 13, now: datetime = NOW) -> Path:
    """Rollup files for `services` over `days` (hours) and the last 24 h (minutes); the history path."""
    rng = np.random.default_rng(seed)
    names = [f"svc-{i:04d}" for i in range(services)]
    centers = rng.integers(40, 90, services)  # medians between ~5 ms and ~500 ms
    history = folder / "history.jsonl"
    end_hour, end_minute = int(now.timestamp()) // 3600, int(now.timestamp()) // 60
    spans = {"hour": range(end_hour - int(days * 24), end_hour), "minute": range(end_minute - 1440, end_minute)}
    for file in RollupFiles(history).files:
        with open(file.path, "wb") as out:
            out.write(encode_names(names))
            for number in spans[file.grain]:
                out.write(encode_block(synthetic_block(file.grain, number, names, centers, rng)))
    return history


def write_raw(history: Path, services: int, hours: float, now: datetime, interval_s: float = 10.0) -> int:
    """The raw history file: a sweep of every service each `interval_s` over the last `hours`; rows."""
    names = [f"svc-{i:04d}" for i in range(services)]
    rng = np.random.default_rng(5)
    sweeps = int(hours * 3600 / interval_s)
    with open(history, "wb") as out:
        for k in range(sweeps, 0, -1):
            ts = now - timedelta(seconds=k * interval_s)
            latency = np.round(rng.lognormal(3, 0.6, services), 1).tolist()
            rows = [(name, "up", ms, 200, None) for name, ms in zip(names, latency, strict=True)]
            out.write(encode_sweep(ts, rows))
    return sweeps * services


def store_child(history: str, services: int, sweeps: int) -> None:
    """In a fresh process: the embedded store as open.py builds it for this fleet, loaded, then live
    sweeps with the figures kept (ops/figures.py); RSS and timings as JSON."""
    from ops.figures import Figures
    from ops.history.embedded import EmbeddedStore, memory_for
    from ops.probes import ProbeResult

    raw, retention = timedelta(hours=48), timedelta(days=7)
    memory = memory_for(raw, services * 360)
    began = time.perf_counter()
    store = EmbeddedStore(history, raw, retention, memory=memory)
    store.load()
    load_s = time.perf_counter() - began
    rss_loaded = psutil.Process().memory_info().rss
    figures = Figures(store)
    now = datetime.now(UTC)
    figures.rebuild(now)
    names = [f"svc-{i:04d}" for i in range(services)]
    sweep_ms = []
    for k in range(sweeps):
        ts = now + timedelta(seconds=10 * (k + 1))
        results = [ProbeResult(name, True, 20.0 + i % 50, 200, None, ts, "up") for i, name in enumerate(names)]
        began = time.perf_counter()
        store.append(ts, results)
        for r in results:
            figures.add(r.service, r.status, r.latency_ms, r.error)
        figures.advance(ts)
        sweep_ms.append((time.perf_counter() - began) * 1000)
    windows = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
    out = {
        "memory_h": memory.total_seconds() / 3600,
        "sweeps": sweeps,
        "rows": len(store),
        "frame_rows": len(store.frame()),
        "frame_bytes_per_row": store.frame().memory_usage(deep=True).sum() / max(len(store.frame()), 1),
        "load_s": load_s,
        "rss_loaded_mib": rss_loaded / 2**20,
        "sweep_ms": statistics.median(sweep_ms),
        "fleet_uptime_ms": timed(lambda: store.uptime(windows, ts), 3),
        "fleet_p95_24h_ms": timed(lambda: store.percentiles({"24h": windows["24h"]}, ts, (95,)), 3),
        "chart_7d_ms": timed(lambda: store.chart_points(names[0], windows["7d"], 300, ts), 3),
        "rss_mib": psutil.Process().memory_info().rss / 2**20,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    store.close()
    print(json.dumps(out))


def measure_store(folder: Path, services: int, sweeps: int = 12) -> dict:
    """7 days at `services`: 48 h of raw rows and 7 days of rollups on disk, loaded in a fresh process."""
    now = datetime.now(UTC)
    began = time.perf_counter()
    history = write_files(folder, services, 7, now=now)
    rows = write_raw(history, services, 48, now)
    written_s = time.perf_counter() - began
    script = [sys.executable, str(Path(__file__)), "--store-child", str(history), "--services", str(services)]
    script += ["--queries", str(sweeps)]
    out = subprocess.run(script, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    for path in folder.iterdir():
        path.unlink()
    return {"written_s": written_s, "raw_rows": rows, "disk_mib": size, **json.loads(out.splitlines()[-1])}


def store_lines(r: dict) -> list[str]:
    """The embedded store's own figures (measure_store) as lines of the table."""
    return [
        f"Embedded store, 7 days (48 h raw: {r['raw_rows'] / 1e6:.1f} M rows, {r['disk_mib']:.0f} MiB on disk with "
        f"the rollups), {r['memory_h']:.0f} h of raw in memory ({r['frame_rows'] / 1e6:.2f} M rows, "
        f"{r['frame_bytes_per_row']:.0f} B a row):",
        f"  load {r['load_s']:.1f} s; RSS {r['rss_loaded_mib']:.0f} MiB loaded, {r['rss_mib']:.0f} MiB after "
        f"{r['sweeps']} live sweeps with the figures, peak {r['peak_rss_mib']:.0f} MiB (target <= 250 MiB)",
        f"  a sweep (append + figures): {r['sweep_ms']:.0f} ms median; fleet uptime 24 h/7 d/30 d "
        f"{r['fleet_uptime_ms']:.0f} ms, fleet p95 24 h {r['fleet_p95_24h_ms']:.0f} ms, "
        f"chart 7 d {r['chart_7d_ms']:.1f} ms",
    ]


def store_figures(store, now: datetime, service: str, queries: int) -> dict:
    """The same queries on any HistoryStore (ops/history/protocol.py): the PostgreSQL half calls this."""
    windows = {"30d": timedelta(days=30)}
    return {
        "uptime_30d_ms": timed(lambda: store.uptime(windows, now, service=service), queries),
        "p95_30d_ms": timed(lambda: store.percentiles(windows, now, (95,), service=service), queries),
    }


# The PostgreSQL half: 90 days of hour rollups (and 24 h of minute ones) for the fleet, made by the server itself: 360
# checks an hour, 0-2 failed, 21 latency buckets around each service's own median.
_FILL_SQL = """
INSERT INTO {table} (service, bucket, checks, failures, counted, up, answered, latency_sum, latency_min,
    latency_max, n_down, n_degraded, n_pending, n_maintenance, n_up, last_error, last_error_ts, latency_buckets)
SELECT name, bucket, n, f, n, n - f, n - f, (n - f) * 40.0, 3.0, 900.0, f, 0, 0, 0, n - f,
    CASE WHEN f > 0 THEN 'timed out after 5.0 s' END, CASE WHEN f > 0 THEN bucket END, buckets
FROM (
    SELECT format('svc-%%s', lpad(i::text, 4, '0')) AS name, i,
        format('[%%s:%%s]=%%s', 30 + i * 37 %% 50, 50 + i * 37 %% 50, %(shape)s::text)::int[] AS buckets
    FROM generate_series(0, %(services)s - 1) AS i
) AS svc
CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, %(step)s::interval) AS b(bucket)
CROSS JOIN LATERAL (SELECT {checks} AS n, ((i + extract(epoch FROM bucket)::bigint / 60) %% 150 = 0)::int AS f) AS c"""


def fill_rollups(url: str, services: int, days: float, now: datetime) -> float:
    """The hour and minute rollups as the bench's embedded files hold them; seconds taken."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    minute = now.replace(second=0, microsecond=0)
    spans = {
        "checks_hour": (hour - timedelta(days=days), hour - timedelta(hours=1), "1 hour", 360),
        "checks_minute": (minute - timedelta(hours=24), minute - timedelta(minutes=1), "1 minute", 6),
    }
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        for table, (first, last, step, checks) in spans.items():
            counts = np.floor(checks * SHAPE).astype(int)  # the answered checks of a bucket, by latency
            shape = "{" + ",".join(map(str, counts)) + "}"
            sql = _FILL_SQL.format(table=table, checks=checks)
            conn.execute(sql, {"services": services, "first": first, "last": last, "step": step, "shape": shape})
            conn.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - began


def sweep_results(names: list[str], ts: datetime, k: int):
    """A sweep of every service: one in fifty failed (a different one each sweep), latencies spread."""
    from ops.probes import ProbeResult

    return [
        ProbeResult(name, failed, 5.0 + (i * 7 + k) % 300, None if failed else 200, "HTTP 503" if failed else None, ts,
                    "down" if failed else "up")
        for i, name in enumerate(names)
        for failed in [i % 50 == k % 50]
    ]  # fmt: skip


def append_times(store, names: list[str], start: datetime, sweeps: int) -> tuple[list[float], list[float]]:
    """ms of each store.append of a full sweep, 10 s apart from `start` (the first few warm up), and
    ms of each fold of a closed minute into the rollups (on the store's own thread, once a minute,
    waited for between sweeps as 10 s between sweeps would)."""
    times, folds = [], []
    for k in range(sweeps):
        ts = start + timedelta(seconds=10 * k)
        results = sweep_results(names, ts, k)
        began = time.perf_counter()
        store.append(ts, results)
        times.append((time.perf_counter() - began) * 1000)
        before = store.upkeep.last_fold_ms
        store.upkeep.wait()
        if k >= 5 and store.upkeep.last_fold_ms is not before:
            folds.append(store.upkeep.last_fold_ms)
    if not store.storage_status()["ok"]:
        raise RuntimeError(f"PostgreSQL store: {store.storage_status()['error']}")
    return times[5:], folds


def general_times(url: str, names: list[str], start: datetime, sweeps: int) -> list[float]:
    """ms of the general statement (retried sweeps, imports) on fresh sweeps, for comparison."""
    from ops.history.postgres_write import WRITE_SQL, _columns
    from ops.history.rows import CheckRow

    times = []
    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        for k in range(sweeps):
            ts = start + timedelta(seconds=10 * k)
            rows = [CheckRow.from_result(ts, r) for r in sweep_results(names, ts, k)]
            began = time.perf_counter()
            with conn.transaction():
                conn.execute(WRITE_SQL, _columns(rows, range(len(rows))))
            times.append((time.perf_counter() - began) * 1000)
    return times[5:]


# A day of raw checks made by the server: a sweep of every service each 10 s, one check in 300 failed,
# latencies 5-205 ms with each row's latency bucket (ops/history/buckets.py) as the store writes it.
_RAW_SQL = """
INSERT INTO checks (ts, service, idx, status, latency_ms, http_status, error, lb, folded_at_write)
SELECT t, format('svc-%%s', lpad(i::text, 4, '0')), i, CASE WHEN f THEN 'down' ELSE 'up' END, ms,
    CASE WHEN f THEN NULL ELSE 200 END, CASE WHEN f THEN 'HTTP 503' END,
    CASE WHEN f THEN NULL ELSE least(greatest(ceil(ln(ms / 0.1) / ln(1.1) - 1e-9)::int, 1), 171) END, false
FROM generate_series(%(first)s::timestamptz, %(last)s::timestamptz, '10 s') AS t
CROSS JOIN generate_series(0, %(services)s - 1) AS i
CROSS JOIN LATERAL (SELECT (i + extract(epoch FROM t)::bigint / 10) %% 300 = 0 AS f,
    round((5 + (i * 7 + extract(epoch FROM t)::bigint / 10) %% 200 + random())::numeric, 1)::float8 AS ms) AS x"""


def fill_raw_day(url: str, services: int, hours: float, now: datetime) -> tuple[float, float]:
    """`hours` of raw checks up to `now`, folded into the rollups as the leader would have; (fill s, fold s)."""
    from ops.history.postgres_write import FOLD_SQL

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        last = now.replace(microsecond=0) - timedelta(seconds=10)
        conn.execute(_RAW_SQL, {"first": now - timedelta(hours=hours), "last": last, "services": services})
        filled = time.perf_counter()
        until = now.replace(second=0, microsecond=0)  # closed minutes folded, the last one left to the readers
        with conn.transaction():
            conn.execute(FOLD_SQL, {"start": now - timedelta(hours=hours + 1), "until": until})
        for table in ("checks", "checks_minute", "checks_hour"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return filled - began, time.perf_counter() - filled


def raw_day_child(url: str, services: int) -> None:
    """In a fresh process, over a day of raw rows: the store as open.py makes it for this fleet (its
    `memory` sized like the embedded store's) answering the 24 h figures and a start-up's
    Figures.rebuild, then the same figures straight from the raw rows (what an all-raw store ran),
    without the store's statement timeout; times, peak RSS and answers as JSON."""
    from ops.figures import Figures
    from ops.history import postgres_read as q
    from ops.history.embedded import memory_for
    from ops.history.postgres import PostgresStore

    raw = timedelta(hours=48)
    store = PostgresStore(url, raw, timedelta(days=90), memory=memory_for(raw, services * 360))
    store.load()
    now, day, one = datetime.now(UTC), {"24h": timedelta(hours=24)}, "svc-0500"

    def once(call) -> tuple[float, object]:
        began = time.perf_counter()
        answer = call()
        return round((time.perf_counter() - began) * 1000, 1), answer

    def peak() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    out: dict = {"memory_h": store.memory.total_seconds() / 3600}
    out["uptime_ms"], uptime = once(lambda: store.uptime(day, now))
    out["p95_ms"], p95 = once(lambda: store.percentiles(day, now, (50, 95)))
    out["one_uptime_ms"], _ = once(lambda: store.uptime(day, now, service=one))
    out["one_p95_ms"], _ = once(lambda: store.percentiles(day, now, (95,), service=one))
    out["rebuild_ms"], _ = once(lambda: Figures(store).rebuild(now))
    out["store_ok"], out["peak_rss_mib"] = store.storage_status()["ok"], peak()
    out["answers"] = {"uptime_one": uptime.get(one, {}).get("24h"), "p95_fleet": p95["*"]["p95_24h"],
                      "p50_fleet": p95["*"]["p50_24h"], "services": len(uptime)}  # fmt: skip
    store.close()
    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        start = now - day["24h"]
        sql, args = q.uptime_sql(None, [start], None, q.EPOCH)
        out["raw_uptime_ms"], rows = once(lambda: conn.execute(sql, args).fetchall())
        percentile = q.RAW_PERCENTILE_SQL.format(service="")
        out["raw_p95_ms"], fleet = once(lambda: conn.execute(percentile, [[0.5, 0.95], start]).fetchall())
        before = peak()
        tallies = q.TALLIES_SQL.format(latencies=q.TALLY_LATENCIES)
        out["raw_tallies_ms"], tallied = once(lambda: conn.execute(tallies, [start]).fetchall())
        out["raw_tallies_rss_mib"] = peak() - before
        out["raw_tallied_latencies"] = sum(len(r[3] or ()) for r in tallied)
        pooled = dict(fleet)["*"]
        counted = {r[0]: q.percent(r[2], r[1]) for r in rows}
        out["raw_answers"] = {"uptime_one": counted.get(one), "p50_fleet": round(pooled[0], 1),
                              "p95_fleet": round(pooled[1], 1)}  # fmt: skip
    print(json.dumps(out))


def raw_day_figures(cluster, services: int, hours: float) -> dict:
    """A day of raw checks of the fleet in a database of its own; the 24 h figures over it, in a child."""
    from ops.history.postgres import PostgresStore

    with cluster.admin(autocommit=True) as admin:
        admin.execute("CREATE DATABASE history_raw")
    url = cluster.dsn(dbname="history_raw")
    PostgresStore(url, timedelta(hours=48), timedelta(days=90)).load()  # the schema
    fill_s, fold_s = fill_raw_day(url, services, hours, datetime.now(UTC))
    script = [sys.executable, str(Path(__file__)), "--raw-child", url, "--services", str(services)]
    out = subprocess.run(script, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    figures = json.loads(out.splitlines()[-1])
    return {"raw_rows": int(hours * 360 * services), "fill_s": fill_s, "fold_s": fold_s, **figures}


def loop_status(app) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{app.port}/api/loop-status", timeout=5) as answer:
        return json.loads(answer.read())


def wait_roles(apps: list, limit_s: float) -> tuple:
    """(leader, follower) once one leads with a finished sweep and the other follows."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        status = [loop_status(app) for app in apps]
        roles = [s["role"] for s in status]
        if sorted(roles) == ["follower", "leader"] and status[roles.index("leader")]["sweeps"] > 0:
            return apps[roles.index("leader")], apps[roles.index("follower")]
        time.sleep(0.1)
    raise RuntimeError(f"no leader with a sweep and a follower within {limit_s:g} s")


def time_takeover(follower, killed_at: float, limit_s: float) -> tuple[float, float]:
    """Seconds from the kill until `follower` says it leads, and until it has finished a sweep."""
    leads = None
    while time.monotonic() - killed_at < limit_s:
        status = loop_status(follower)
        seen = time.monotonic() - killed_at  # an upper bound: the answer was read after it was true
        if leads is None and status["role"] == "leader":
            leads = seen
        if status["role"] == "leader" and status["sweeps"] > 0:
            return leads, seen
        time.sleep(0.02)
    raise RuntimeError(f"no new leader probing {limit_s:g} s after the kill")


def takeover_figures(url: str, services: int, interval_s: float, kills: int, folder: Path) -> dict:
    """Two dashboards (bench/common.py AppProcess) on one database over a loopback fleet of `services`:
    `kills` times, SIGKILL the leader by its PID, time the follower's take-over and first sweep, and
    start a fresh follower. Every process started here is stopped by its PID at the end."""
    from common import AppProcess, FleetProcess

    fleet, apps, leads, probes = FleetProcess(services), [], [], []
    config = {"services": fleet.services(2.0), "interval_s": interval_s, "storage": {"url": url}}
    try:
        apps = [AppProcess(config, folder / f"dash-{k}") for k in range(2)]
        for k in range(kills):
            leader, follower = wait_roles(apps, 30 + 3 * interval_s)
            time.sleep(interval_s * (0.2 + 0.6 * k / max(kills - 1, 1)))  # kills land at several points of an interval
            killed_at = time.monotonic()
            os.kill(leader.pid, signal.SIGKILL)
            lead_s, probe_s = time_takeover(follower, killed_at, 10 * interval_s)
            leads.append(lead_s)
            probes.append(probe_s)
            leader.proc.wait(10)
            apps = [follower, AppProcess(config, folder / f"dash-{k + 2}")]
    finally:
        for app in apps:
            if app.proc.poll() is None:
                os.kill(app.pid, signal.SIGKILL)
                app.proc.wait(10)
        fleet.close()
    return {"kills": kills, "interval_s": interval_s, "leads_s": leads, "probes_s": probes}


def postgres_figures(args) -> dict | None:
    """A throwaway PostgreSQL 15 cluster (tests/postgres_cluster.py, fsync off): 90 days of rollups made
    in SQL, then live sweeps appended and the 30-day queries timed; None without the server binaries."""
    from ops.history.postgres import PostgresStore
    from tests.postgres_cluster import PostgresCluster, available

    if not available():
        return None
    names = [f"svc-{i:04d}" for i in range(args.services)]
    cluster = PostgresCluster()
    try:
        cluster.start()
        with cluster.admin(autocommit=True) as admin:
            admin.execute("CREATE DATABASE history_scale")
        url = cluster.dsn(dbname="history_scale")
        store = PostgresStore(url, timedelta(hours=48), timedelta(days=args.days))
        store.load()
        fill_s = fill_rollups(url, args.services, args.days, NOW)
        appends, folds = append_times(store, names, NOW, args.pg_sweeps)
        general = general_times(url, names, NOW + timedelta(hours=1), min(args.pg_sweeps, 25))
        figures = store_figures(store, NOW + timedelta(minutes=10), names[len(names) // 2], args.queries)
        store.close()
        raw_day = raw_day_figures(cluster, args.services, 24) if args.raw_day else None
        takeover = None
        if args.kills:
            with cluster.admin(autocommit=True) as admin:
                admin.execute("CREATE DATABASE takeover")
            with tempfile.TemporaryDirectory() as tmp:
                takeover = takeover_figures(cluster.dsn(dbname="takeover"), args.services, args.interval,
                                            args.kills, Path(tmp))  # fmt: skip
    finally:
        cluster.close()  # stopped by its postmaster's PID, its temp dir removed
    return {
        "fill_s": fill_s,
        "append_p50_ms": statistics.median(appends),
        "append_p90_ms": float(np.percentile(appends, 90)),
        "general_p50_ms": statistics.median(general),
        "fold_p50_ms": statistics.median(folds) if folds else float("nan"),
        "folds": len(folds),
        "sweeps": len(appends),
        "raw_day": raw_day,
        "takeover": takeover,
        **figures,
    }


def only(args) -> dict:
    """One PostgreSQL figure on a throwaway cluster of its own (--only)."""
    from tests.postgres_cluster import PostgresCluster

    cluster = PostgresCluster()
    try:
        cluster.start()
        if args.only == "raw-day":
            return raw_day_figures(cluster, args.services, 24)
        with cluster.admin(autocommit=True) as admin:
            admin.execute("CREATE DATABASE takeover")
        with tempfile.TemporaryDirectory() as tmp:
            return takeover_figures(cluster.dsn(dbname="takeover"), args.services, args.interval, args.kills, Path(tmp))
    finally:
        cluster.close()


def timed(call, count: int) -> float:
    times = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def child(history: str, queries: int) -> None:
    """In a fresh process: load the files, time the queries, print figures as JSON."""
    rss_before = psutil.Process().memory_info().rss
    rollups = Rollups()
    began = time.perf_counter()
    RollupFiles(history).load(rollups)
    load_s = time.perf_counter() - began
    rss = psutil.Process().memory_info().rss
    since, service = NOW - timedelta(days=30), rollups.services[len(rollups.services) // 2]
    figures = {
        "load_s": load_s,
        "rss_mib": rss / 2**20,
        "rollups_mib": (rss - rss_before) / 2**20,
        "uptime_30d_ms": timed(lambda: rollups.uptime(service, since, NOW), queries),
        "p95_30d_ms": timed(lambda: rollups.percentiles(service, since, NOW, (95,)), queries),
        "fleet_uptime_30d_ms": timed(lambda: rollups.uptime(None, since, NOW), max(queries // 20, 3)),
        "fleet_p95_30d_ms": timed(lambda: rollups.percentiles(None, since, NOW, (95,)), 3),
        "file_mib": sum(f.path.stat().st_size for f in RollupFiles(history).files) / 2**20,
    }
    print(json.dumps(figures))


def measure(folder: Path, services: int, days: float, queries: int) -> dict:
    began = time.perf_counter()
    history = write_files(folder, services, days)
    written_s = time.perf_counter() - began
    script = [sys.executable, str(Path(__file__)), "--child", str(history), "--queries", str(queries)]
    out = subprocess.run(script, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    for file in RollupFiles(history).files:
        file.path.unlink()
    return {"written_s": written_s, **json.loads(out.splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--days", type=float, default=90)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pg-sweeps", type=int, default=60, help="sweeps appended to the PostgreSQL store")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store-child", help=argparse.SUPPRESS)
    parser.add_argument("--raw-child", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("raw-day", "takeover"), help="just this PostgreSQL figure")
    parser.add_argument("--interval", type=float, default=10.0, help="the dashboards' interval (take-over)")
    parser.add_argument("--kills", type=int, default=3, help="leaders killed (take-over); 0: none")
    parser.add_argument("--raw-day", action="store_true", help="also a day of raw rows (~10 min to make)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.queries)
        return
    if args.store_child:
        store_child(args.store_child, args.services, args.queries)
        return
    if args.raw_child:
        raw_day_child(args.raw_child, args.services)
        return
    if args.only:
        print(json.dumps(only(args), indent=1, default=str))
        return
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        long = measure(Path(tmp), args.services, args.days, args.queries)
        week = measure(Path(tmp), args.services, 7, args.queries)
        store = measure_store(Path(tmp), args.services)
    n = args.services
    lines = [
        f"Embedded rollups, {n} services at 10 s (files written in bulk, see the docstring):",
        f"  {args.days:.0f} days of hours + 24 h of minutes: {long['file_mib']:.0f} MiB on disk, "
        f"written in {long['written_s']:.1f} s",
        f"  load of the rollup files:   {long['load_s']:.2f} s, process RSS {long['rss_mib']:.0f} MiB "
        f"({long['rollups_mib']:.0f} MiB for the rollups)",
        f"  uptime 30 d, one service:   {long['uptime_30d_ms']:.2f} ms median of {args.queries} (target <= 20 ms)",
        f"  p95 30 d, one service:      {long['p95_30d_ms']:.2f} ms median of {args.queries}",
        f"  uptime / p95 30 d, fleet:   {long['fleet_uptime_30d_ms']:.1f} ms / {long['fleet_p95_30d_ms']:.0f} ms",
        f"  7 days of hours + 24 h of minutes held: process RSS {week['rss_mib']:.0f} MiB "
        f"({week['rollups_mib']:.0f} MiB for the rollups; the store's target <= 250 MiB), load {week['load_s']:.2f} s",
    ]
    lines += store_lines(store)
    pg = postgres_figures(args)
    if pg is not None:
        lines.append(
            f"PostgreSQL store, {n} services: 90 days of hours + 24 h of minutes made in SQL in {pg['fill_s']:.0f} s; "
            f"{pg['sweeps']} sweeps appended; a closed minute folded into the rollups "
            f"{pg['fold_p50_ms']:.0f} ms p50 ({pg['folds']} folds, once a minute, off the sweep); "
            f"a late sweep (held, retried, imported: inserted and folded at once) {pg['general_p50_ms']:.0f} ms p50"
        )
    print("\n".join(lines + [""] + summary_table(long, store, pg, args.queries)))
    load = os.getloadavg()
    print(f"(load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before, "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} after; {env_summary()})")  # fmt: skip


def summary_table(long: dict, store: dict, pg: dict | None, queries: int) -> list[str]:
    """Issue 13's targets beside both stores' figures."""
    none = "not measured (no PostgreSQL server binaries)"
    rows = [
        ("", "embedded", "PostgreSQL", "target"),
        ("RSS, store holding 7 days", f"{store['rss_mib']:.0f} MiB", "(server)", "<= 250 MiB embedded"),
        (f"uptime 30 d, one service (median of {queries})", f"{long['uptime_30d_ms']:.2f} ms",
         f"{pg['uptime_30d_ms']:.2f} ms" if pg else none, "<= 20 ms both"),
        (f"p95 30 d, one service (median of {queries})", f"{long['p95_30d_ms']:.2f} ms",
         f"{pg['p95_30d_ms']:.2f} ms" if pg else none, ""),
        ("append, one 1,000-row sweep", f"{store['sweep_ms']:.0f} ms p50 (+ figures)",
         f"{pg['append_p50_ms']:.1f} ms p50, {pg['append_p90_ms']:.1f} ms p90" if pg else none, "<= 20 ms PostgreSQL"),
    ]  # fmt: skip
    return [f"{a:<58} {b:<24} {c:<36} {d}" for a, b, c, d in rows + more_rows(pg)]


def more_rows(pg: dict | None) -> list[tuple[str, str, str, str]]:
    """The take-over and, when measured, the day of raw rows, as rows of the summary table."""
    rows = []
    takeover = pg and pg["takeover"]
    if takeover:
        probes, leads, interval = takeover["probes_s"], takeover["leads_s"], takeover["interval_s"]
        label = f"leader killed -> new leader probing ({len(probes)} kills, {interval:g} s)"
        rows.append((label, "(one process)", f"{statistics.median(probes):.2f} s p50, {max(probes):.2f} s max",
                     f"<= {2 * interval:g} s (2 intervals)"))  # fmt: skip
        rows.append(("  ... leading", "", f"{statistics.median(leads):.2f} s p50, {max(leads):.2f} s max", ""))
    day = pg and pg["raw_day"]
    if day:
        label = f"24 h figures, {day['raw_rows'] / 1e6:.1f} M raw rows (memory {day['memory_h']:g} h)"
        ours = f"uptime {day['uptime_ms']:.0f} ms, p50+p95 {day['p95_ms']:.0f} ms, start {day['rebuild_ms']:.0f} ms"
        raw = f"raw: {day['raw_uptime_ms']:.0f} / {day['raw_p95_ms']:.0f} / {day['raw_tallies_ms']:.0f} ms"
        rows.append((label, "", ours, raw))
    return rows


if __name__ == "__main__":
    main()
