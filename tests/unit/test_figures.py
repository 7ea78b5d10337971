"""Incremental figures (ops/figures.py) give exactly what the store computes from the same rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from ops.figures import Figures
from ops.fleet import fleet_summary
from ops.fleet_tally import FleetTally
from ops.history.embedded import EmbeddedStore
from ops.probes import ProbeResult
from ops.stats import LATENCY_WINDOWS, UPTIME_WINDOWS

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STATUSES = ("up", "degraded", "down", "pending", "maintenance")


def expected(store: EmbeddedStore, now: datetime, names) -> dict:
    uptimes, percentiles = store.uptime(UPTIME_WINDOWS, now), store.percentiles(LATENCY_WINDOWS, now)
    out = {}
    for name in names:
        uptime, latency = uptimes.get(name, {}), percentiles.get(name, {})
        out[name] = (
            {w: uptime.get(w) for w in ("1h", "24h", "7d")},
            {k: latency.get(k) for k in ("p50_1h", "p95_1h", "p50_24h", "p95_24h")},
        )
    return out


def actual(figures: Figures, names) -> dict:
    out = {}
    for name in names:
        f = figures.of(name)
        out[name] = (
            f.get("uptime", dict.fromkeys(("1h", "24h", "7d"))),
            f.get("latency", {}) or dict.fromkeys(("p50_1h", "p95_1h", "p50_24h", "p95_24h")),
        )
    return out


def test_running_figures_match_the_batch_computation_as_windows_slide():
    rng = random.Random(7)
    names = ["a", "b", "c"]
    store = EmbeddedStore(None, timedelta(days=30))
    figures = Figures(store)
    figures.rebuild(START)
    now = START
    for sweep in range(400):
        now = START + timedelta(minutes=37 * sweep)  # 10 days in all: every window fills and slides
        results = []
        for name in rng.sample(names, rng.randint(1, 3)):
            ok = rng.random() < 0.8
            status = rng.choice(STATUSES) if rng.random() < 0.2 else ("up" if ok else "down")
            latency = round(rng.uniform(1, 500), 3) if ok else rng.choice([None, 5000.0])
            result = ProbeResult(name, ok, latency, 200 if ok else None, None if ok else "boom", now, status)
            figures.add(name, status, result.latency_ms, result.error)
            results.append(result)
        store.append(now, results)
        figures.advance(now)
        if sweep % 17 == 0 or sweep > 390:
            assert actual(figures, names) == expected(store, now, names), f"sweep {sweep}"


def test_retention_and_a_clock_step_back_start_over_from_the_history():
    # Ahead of the wall clock: the store's own hourly pass (on the wall clock) drops none of these rows
    # before the test's drop_expired does, so which of the two ran first makes no difference.
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    store = EmbeddedStore(None, timedelta(hours=2))
    figures = Figures(store)
    figures.rebuild(start)
    for minutes in range(0, 300, 10):
        now = start + timedelta(minutes=minutes)
        result = ProbeResult("a", minutes % 20 == 0, 10.0 + minutes, 200, None if minutes % 20 == 0 else "x", now, "up")
        figures.add("a", result.status, result.latency_ms, result.error)
        store.append(now, [result])
        store.drop_expired(now)  # drops rows older than 2 h: the figures follow
        figures.advance(now)
        assert actual(figures, ["a"]) == expected(store, now, ["a"])
    back = now - timedelta(hours=1)
    figures.advance(back)
    assert actual(figures, ["a"]) == expected(store, back, ["a"])


def test_fleet_tally_agrees_with_the_fleet_rule():
    rng = random.Random(3)
    tally, views = FleetTally(), {}
    for _ in range(2000):
        view = {
            "name": f"s{rng.randint(0, 9)}",
            "status": rng.choice(["up", "degraded", "down", "pending", "disabled"]),
            "enabled": rng.random() < 0.9,
            "maintenance": rng.random() < 0.1,
        }
        views[view["name"]] = view
        tally.put(view)
        assert tally.summary() == fleet_summary(list(views.values()))


def test_a_service_without_answered_checks_at_rebuild_takes_its_first_latency_later():
    store = EmbeddedStore(None, timedelta(days=1))
    store.append(START, [ProbeResult("a", False, 3.0, None, "refused", START, "down")])
    figures = Figures(store)
    figures.rebuild(START)
    figures.add("a", "up", 12.0, None)
    assert figures.of("a")["latency"]["p50_1h"] == 12.0


class CountingStore:
    """An in-memory store that says it reads raw rows quickly for 2 h only, counting the asks past that."""

    def __init__(self) -> None:
        self.inner = EmbeddedStore(None, timedelta(days=8))
        self.memory = timedelta(hours=2)  # 24 h and 7 d are asked, as at 1,000 services
        self.asks = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def uptime(self, windows, now, service=None):
        self.asks += 1
        return self.inner.uptime(windows, now, service)

    def percentiles(self, windows, now, qs=(50, 95), service=None):
        return self.inner.percentiles(windows, now, qs, service)


def sweep(store, figures: Figures, now: datetime, *checks) -> None:
    results = [ProbeResult(n, ok, ms, 200 if ok else None, None if ok else "x", now, "up" if ok else "down")
               for n, ok, ms in checks]  # fmt: skip
    for r in results:
        figures.add(r.service, r.status, r.latency_ms, r.error)
    store.append(now, results)
    figures.advance(now)


def test_windows_past_memory_are_asked_once_a_minute_and_at_once_when_a_check_contradicts_them():
    store = CountingStore()
    for k in range(60):  # an hour, 4 h ago (past `memory`): "a" failed once, "b" never
        ts, ok = START - timedelta(hours=4) + timedelta(minutes=k), k != 5
        a = ProbeResult("a", ok, 20.0 + k, 200, None if ok else "x", ts, "up" if ok else "down")
        store.inner.append(ts, [a, ProbeResult("b", True, 30.0, 200, None, ts, "up")])
    figures = Figures(store)
    figures.cheap_ask = timedelta(0)  # every ask counts as costly here, as at 1,000 services
    figures.rebuild(START)
    assert store.asks == 1
    for k in range(1, 31):  # five minutes of sweeps 10 s apart: checks that only nudge the figures
        sweep(store, figures, START + timedelta(seconds=10 * k), ("a", True, 25.0), ("b", True, 31.0))
    assert store.asks == 1 + 5  # once a minute, not 30 times
    now = START + timedelta(seconds=310)
    assert actual(figures, ["a", "b"]) == expected(store.inner, START + timedelta(seconds=300), ["a", "b"])
    sweep(store, figures, now, ("a", True, 25.0), ("b", False, None))  # "b" at 100 %: false at once
    assert store.asks == 7 and figures.of("b")["uptime"]["24h"] < 100.0
    sweep(store, figures, now + timedelta(seconds=10), ("c", True, 9.0))  # a new service: no "no data"
    assert store.asks == 8 and figures.of("c")["uptime"]["7d"] == 100.0 and figures.of("c")["latency"]["p50_24h"] == 9.0
    assert actual(figures, ["a", "b", "c"]) == expected(store.inner, now + timedelta(seconds=10), ["a", "b", "c"])
    store.inner.generation += 1  # rows dropped by the store: everything is asked again at once
    sweep(store, figures, now + timedelta(seconds=20), ("a", True, 25.0))
    assert store.asks == 9


def test_cheap_asks_are_made_every_sweep_so_young_history_never_shows_a_stale_longer_window():
    """The demo's case: minutes of history, so 1 h, 24 h and 7 d cover the same checks and must agree
    after every sweep (a minute-old 7 d said 94.4 % beside 1 h and 24 h at 85.0 %)."""
    store = CountingStore()
    figures = Figures(store)
    figures.cheap_ask = timedelta(seconds=5)  # this small store answers in ~1 ms; 5 s keeps a busy CI box in
    figures.rebuild(START)
    for k in range(1, 13):  # two minutes of sweeps, every third check of "a" failing
        sweep(store, figures, START + timedelta(seconds=10 * k), ("a", k % 3 != 0, 20.0))
        uptime = figures.of("a")["uptime"]
        assert uptime["7d"] == uptime["24h"] == uptime["1h"], (k, uptime)
    assert store.asks == 1 + 12
    assert figures.of("a")["uptime"]["1h"] == round(100 * 8 / 12, 3)  # 8 of 12 passed: the figures are real
