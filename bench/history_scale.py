"""History at scale (issue 13): rollups of 1,000 services, 90 days, 10 s interval.

    .venv/bin/python bench/history_scale.py [--services 1000] [--days 90] [--queries 200]

Embedded half: 90 days through Rollups.add would be 777 million checks, so the rollup files are
written in bulk instead: one synthetic closed bucket per hour (and per minute for the last 24 h)
for all services at once, built as numpy columns (360 checks per service-hour, ~0.3 % failed, a
latency histogram of 21 buckets around each service's own median) and encoded by the same
`encode_block` the store's writer uses. Then, in a fresh process each: the load time of the files,
the 30-day uptime (and percentile) query for one service, median of `--queries`; and the RSS of a
process holding 7 days of rollups (the issue's target: the embedded store within 250 MiB).

PostgreSQL half: `store_figures(store, now)` times the same queries on any HistoryStore; the lead
adds the PostgreSQL store's set-up in `postgres_figures` (None until then).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psutil
from common import ROOT, env_summary

from ops.history.buckets import BUCKETS, bucket_value
from ops.history.rollup import STATUS_INDEX, STATUSES, Block, Rollups
from ops.history.rollup_file import RollupFiles, encode_block, encode_names

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


def write_files(folder: Path, services: int, days: float, seed: int = 13) -> Path:
    """Rollup files for `services` over `days` (hours) and the last 24 h (minutes); the history path."""
    rng = np.random.default_rng(seed)
    names = [f"svc-{i:04d}" for i in range(services)]
    centers = rng.integers(40, 90, services)  # medians between ~5 ms and ~500 ms
    history = folder / "history.jsonl"
    end_hour, end_minute = int(NOW.timestamp()) // 3600, int(NOW.timestamp()) // 60
    spans = {"hour": range(end_hour - int(days * 24), end_hour), "minute": range(end_minute - 1440, end_minute)}
    for file in RollupFiles(history).files:
        with open(file.path, "wb") as out:
            out.write(encode_names(names))
            for number in spans[file.grain]:
                out.write(encode_block(synthetic_block(file.grain, number, names, centers, rng)))
    return history


def store_figures(store, now: datetime, service: str, queries: int) -> dict:
    """The same queries on any HistoryStore (ops/history/protocol.py): the PostgreSQL half calls this."""
    windows = {"30d": timedelta(days=30)}
    return {
        "uptime_30d_ms": timed(lambda: store.uptime(windows, now, service=service), queries),
        "p95_30d_ms": timed(lambda: store.percentiles(windows, now, (95,), service=service), queries),
    }


def postgres_figures(args) -> dict | None:
    """PostgreSQL half (added by the lead): build a store, fill 90 days, return store_figures(...)."""
    return None


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
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.queries)
        return
    with tempfile.TemporaryDirectory() as tmp:
        long = measure(Path(tmp), args.services, args.days, args.queries)
        week = measure(Path(tmp), args.services, 7, args.queries)
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
    pg = postgres_figures(args)
    lines.append(
        "PostgreSQL: not measured (postgres_figures is the lead's to fill)"
        if pg is None
        else f"PostgreSQL: uptime 30 d {pg['uptime_30d_ms']:.2f} ms, p95 30 d {pg['p95_30d_ms']:.2f} ms"
    )
    print("\n".join(lines))
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
