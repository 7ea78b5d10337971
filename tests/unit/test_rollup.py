"""Rollups answer as a brute-force count over the same raw rows would (ops/history/rollup.py)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ops.fleet import severity
from ops.history.buckets import bucket_index
from ops.history.rollup import Rollups
from ops.history.rows import CheckRow

START = datetime(2026, 11, 26, 9, 47, 3, tzinfo=UTC)  # mid-hour, mid-minute: the edges are partial
SERVICES = ("api", "db", "cache", "queue", "web")
STATUSES = ("up", "up", "up", "degraded", "down", "pending", "maintenance")


def sweeps(hours: float = 3.2, every_s: int = 10, seed: int = 7) -> list[tuple[datetime, list[CheckRow]]]:
    """Random sweeps from START: statuses, failed checks with errors, latencies over decades."""
    rng = random.Random(seed)
    out = []
    for k in range(int(hours * 3600 / every_s)):
        ts = START + timedelta(seconds=k * every_s)
        rows = []
        for name in SERVICES:
            status = rng.choice(STATUSES)
            failed = status == "down" or rng.random() < 0.05
            latency = None if rng.random() < 0.02 else round(rng.lognormvariate(3, 1), 1)
            error = rng.choice(("timeout", "refused", f"HTTP {rng.randint(500, 504)}")) if failed else None
            rows.append(CheckRow(ts, name, status, latency, 200 if not failed else None, error))
        out.append((ts, rows))
    return out


def rollups_of(data, **keep) -> Rollups:
    rollups = Rollups(**keep)
    for ts, rows in data:
        rollups.add(ts, rows)
    return rollups


def rows_in(data, since: datetime, until: datetime, service: str | None = None) -> list[CheckRow]:
    return [r for ts, rows in data if since <= ts < until for r in rows if service in (None, r.service)]


def ceil_to(ts: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(math.ceil(ts.timestamp() / seconds) * seconds, UTC)


def brute_uptime(rows: list[CheckRow]) -> float | None:
    counted = [r for r in rows if r.status != "maintenance"]
    up = [r for r in counted if r.error is None]
    return round(100.0 * len(up) / len(counted), 3) if counted else None


@pytest.fixture(scope="module")
def data():
    return sweeps()


@pytest.fixture(scope="module")
def rollups(data):
    return rollups_of(data)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (START - timedelta(hours=1), START + timedelta(hours=4)),  # everything
        (START + timedelta(minutes=20), START + timedelta(hours=2, minutes=31)),  # minute edges, whole hours
        (START + timedelta(minutes=5, seconds=17), START + timedelta(minutes=44, seconds=5)),  # within an hour
    ],
)
def test_uptime_and_counts_equal_a_brute_force_count(data, rollups, since, until):
    lo, hi = ceil_to(since, 60), ceil_to(until, 60)  # the documented edges: whole minutes
    totals = rollups.totals(None, since, until)
    assert set(totals) == set(SERVICES)
    for name in SERVICES:
        rows = rows_in(data, lo, hi, name)
        got = totals[name]
        assert got.checks == len(rows)
        assert got.failed == sum(r.error is not None for r in rows)
        assert got.counted == sum(r.status != "maintenance" for r in rows)
        assert got.answered == sum(r.answered_ms is not None for r in rows)
        assert got.latency_sum == pytest.approx(sum(r.answered_ms or 0 for r in rows), rel=1e-6)
        assert rollups.uptime(name, since, until) == {name: brute_uptime(rows)}
        assert rollups.uptime(None, since, until)[name] == brute_uptime(rows)


def test_window_edges_fall_back_to_whole_hours_once_minutes_are_gone(data):
    rollups = rollups_of(data, minute_keep=timedelta(minutes=30))  # the start's minutes are long gone
    since, until = START + timedelta(minutes=20), data[-1][0] + timedelta(seconds=1)
    rows = rows_in(data, ceil_to(since, 3600), ceil_to(until, 60))
    assert rollups.uptime(None, since, until) == {
        n: brute_uptime([r for r in rows if r.service == n]) for n in SERVICES
    }


def test_percentiles_are_within_one_bucket_of_numpys(data, rollups):
    since = START.replace(minute=0, second=0)  # hour-aligned: the hours counted are exactly the window
    until = since + timedelta(hours=3)
    got = rollups.percentiles(None, since, until, (50, 95, 99))
    assert set(got) == {*SERVICES, "*"}
    for name in (*SERVICES, "*"):
        values = [r.answered_ms for r in rows_in(data, since, until, None if name == "*" else name)]
        values = [v for v in values if v is not None]
        for q in (50, 95, 99):
            exact = float(np.percentile(values, q))
            assert abs(bucket_index(got[name][q]) - bucket_index(exact)) <= 1, (name, q, got[name][q], exact)
    assert rollups.percentiles("db", since, until, (50,)) == {"db": {50: got["db"][50]}}


def test_chart_buckets_carry_worst_status_failed_checks_and_last_error(data, rollups):
    since, until, step = START, data[-1][0] + timedelta(seconds=1), timedelta(minutes=15)
    points = rollups.chart_buckets("queue", since, until, step)
    assert len(points) == math.ceil((until - since.replace(minute=45, second=0)) / step)
    for point in points:
        rows = rows_in(data, point.ts, point.ts + step, "queue")
        assert point.checks == len(rows)
        assert point.failed == sum(r.error is not None for r in rows)
        assert point.status == min((r.status for r in rows), key=severity)
        assert point.error == [r.error for r in rows if r.error][-1]
        answered = [r.answered_ms for r in rows if r.answered_ms is not None]
        assert point.latency_ms == pytest.approx(sum(answered) / len(answered), abs=0.051)


def test_chart_buckets_read_hours_for_steps_of_an_hour(data, rollups):
    points = rollups.chart_buckets("api", START - timedelta(hours=1), START + timedelta(hours=5), timedelta(hours=1))
    assert [p.ts.minute for p in points] == [0] * 4
    assert sum(p.checks for p in points) == len(rows_in(data, START, START + timedelta(hours=5), "api"))


def test_retention_drops_old_buckets_and_counts_them(data):
    rollups = rollups_of(data)
    now = data[-1][0]
    dropped = rollups.retention(now, minute_keep=timedelta(hours=1), hour_keep=timedelta(hours=2))
    minutes_before = {(ts.timestamp() // 60) for ts, _ in data if ts < ceil_to(now - timedelta(hours=1), 60)}
    hours_before = {
        (ts.timestamp() // 3600)
        for ts, _ in data
        if (ts.timestamp() // 3600 + 1) * 3600 <= (now - timedelta(hours=2)).timestamp()
    }
    assert dropped["minute"] >= len(SERVICES) * (len(minutes_before) - 1)
    assert dropped["hour"] == len(SERVICES) * len(hours_before)
    assert rollups.totals(None, START, now + timedelta(seconds=1))["api"].checks < len(data)
    assert rollups.retention(now, timedelta(hours=1), timedelta(hours=2)) == {"minute": 0, "hour": 0}


def test_a_check_for_a_closed_bucket_is_left_out(data):
    rollups = rollups_of(data[:100])
    before = rollups.totals("api", START, START + timedelta(hours=1))
    rollups.add(START, data[0][1])  # a clock stepped back: that minute and hour closed long ago
    assert rollups.late == 2 * len(SERVICES)
    assert rollups.totals("api", START, START + timedelta(hours=1)) == before


def test_closed_blocks_and_a_replay_rebuild_the_same_answers(data, rollups):
    copy = Rollups()
    writer = Rollups()
    for ts, rows in data:
        writer.add(ts, rows)
        for block in writer.closed_blocks():
            copy.put(block)
    replay = copy.replay_from()
    for ts, rows in data:
        if ts >= replay:
            copy.add(ts, rows)
    since, until = START - timedelta(hours=1), START + timedelta(hours=4)
    assert copy.totals(None, since, until) == rollups.totals(None, since, until)
    assert copy.percentiles(None, since, until) == rollups.percentiles(None, since, until)
    step = timedelta(minutes=10)
    assert copy.chart_buckets("web", since, until, step) == rollups.chart_buckets("web", since, until, step)


def test_services_beyond_the_first_capacity_keep_their_history():
    rollups = Rollups()
    names = [f"s{i}" for i in range(40)]  # the rings start at 16 services and double
    for k in range(200):
        ts = START + timedelta(seconds=10 * k)
        count = 5 if k < 100 else 40
        rollups.add(ts, [CheckRow(ts, n, "up", 10.0 + i, 200, None) for i, n in enumerate(names[:count])])
    totals = rollups.totals(None, START.replace(second=0), START + timedelta(hours=1))
    assert totals["s0"].checks == 200 and totals["s39"].checks == 100
    assert rollups.percentiles("s3", START, START + timedelta(hours=1))["s3"][50] == pytest.approx(13.0, rel=0.05)
