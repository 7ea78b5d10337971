"""Windows that start before a store's `memory` (a large fleet's) read the rollups, in both stores:
uptime still exact from the counts, percentiles within one latency bucket of numpy's."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ops.history.buckets import RATIO
from ops.history.embedded import EmbeddedStore
from tests.contract.test_history_store import HOUR, NOW, WINDOWS, sweep

MEMORY = 2 * HOUR  # what open.py gives a fleet of 1,000 services at 10 s


@pytest.fixture(params=["embedded", "postgresql"])
def short_store(request, tmp_path):
    """A fresh, loaded store answering from raw rows only within the last MEMORY."""
    if request.param == "embedded":
        store = EmbeddedStore(tmp_path / "history.jsonl", timedelta(hours=48), timedelta(days=7), memory=MEMORY)
        store.load()
    else:
        from tests.contract.pg_store_factory import make_store

        store = make_store(tmp_path, request.getfixturevalue("pg_cluster"), memory=MEMORY)
    yield store
    store.close()


def fill(store) -> dict[str, list]:
    """Checks over the last day, none within an hour of the 24 h edge (the embedded store rounds
    a window it reads from hours up to the next whole hour); {service: [(ago_s, ok, ms)]}."""
    checks: dict[str, list] = {"a": [], "b": []}
    for k, ago in enumerate(range(82_680, 300, -420)):  # every 7 min from 22 h 58 min ago
        a_ok, b_ok = k % 5 != 0, k % 7 != 3
        a_ms, b_ms = 10.0 + 3.7 * k, 200.0 + 11.3 * (k % 9)
        sweep(store, ago, ("a", "up", a_ms) if a_ok else ("a", "down", None, "refused"),
              ("b", "degraded", b_ms) if b_ok else ("b", "down", None, "HTTP 503"))  # fmt: skip
        checks["a"].append((ago, a_ok, a_ms))
        checks["b"].append((ago, b_ok, b_ms))
    return checks


def test_a_day_beyond_memory_counts_uptime_exactly_from_the_rollups(short_store):
    checks = fill(short_store)
    assert short_store.memory == MEMORY
    expected = {}
    for name, rows in checks.items():
        for label, span in WINDOWS.items():
            inside = [ok for ago, ok, _ in rows if ago <= span.total_seconds()]
            expected.setdefault(name, {})[label] = round(100.0 * sum(inside) / len(inside), 3)
    assert short_store.uptime(WINDOWS, NOW) == expected
    assert short_store.uptime({"24h": WINDOWS["24h"]}, NOW, service="b") == {"b": {"24h": expected["b"]["24h"]}}


def test_a_days_percentiles_beyond_memory_are_within_a_latency_bucket(short_store):
    checks = fill(short_store)
    answer = short_store.percentiles(WINDOWS, NOW)
    pooled: dict[str, list[float]] = {"1h": [], "24h": []}
    for name, rows in checks.items():
        for label, span in WINDOWS.items():
            values = [ms for ago, ok, ms in rows if ok and ago <= span.total_seconds()]
            pooled[label] += values
            for q in (50, 95):
                exact = round(float(np.percentile(values, q)), 1)
                if label == "1h":  # within memory: numpy's, to the tenth
                    assert answer[name][f"p{q}_1h"] == exact
                else:
                    assert exact / RATIO**2 <= answer[name][f"p{q}_24h"] <= exact * RATIO**2, (name, q)
    for q in (50, 95):
        exact = float(np.percentile(pooled["24h"], q))
        assert exact / RATIO**2 <= answer["*"][f"p{q}_24h"] <= exact * RATIO**2
