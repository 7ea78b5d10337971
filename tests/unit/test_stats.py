"""Uptime and latency figures come from the history, and only from it (ops/stats.py's rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ops.history.embedded import EmbeddedStore
from ops.probes import ProbeResult
from ops.stats import LATENCY_WINDOWS, UPTIME_WINDOWS

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def history(rows) -> EmbeddedStore:
    """rows: (minutes ago, service, status, latency, error), stored oldest first."""
    store = EmbeddedStore(None, timedelta(days=30))
    for minutes, service, status, latency, error in sorted(rows, key=lambda r: -r[0]):
        ts = NOW - timedelta(minutes=minutes)
        store.append(ts, [ProbeResult(service, error is None, latency, 200, error, ts, status)])
    return store


def uptime(store: EmbeddedStore) -> dict:
    return store.uptime(UPTIME_WINDOWS, NOW)


def test_uptime_is_the_share_of_checks_that_passed_degraded_included():
    data = history(
        [
            (1, "a", "up", 10, None),
            (2, "a", "degraded", 10, None),
            (3, "a", "down", None, "x"),
            (4, "a", "pending", None, "x"),
            (5, "a", "up", 10, None),
        ]
    )
    # up, degraded and up passed; the failure still below the threshold (pending) counts as failed
    assert uptime(data)["a"]["1h"] == pytest.approx(60.0)


def test_uptime_windows_differ():
    data = history([(10, "a", "up", 10, None), (120, "a", "down", None, "x"), (60 * 48, "a", "down", None, "x")])
    figures = uptime(data)["a"]
    assert figures == {"1h": 100.0, "24h": 50.0, "7d": pytest.approx(100 / 3, abs=0.001)}


def test_maintenance_is_left_out_of_uptime():
    data = history([(1, "a", "maintenance", None, "x"), (2, "a", "up", 10, None)])
    assert uptime(data)["a"]["1h"] == 100.0


def test_latency_percentiles_use_successful_checks_only():
    rows = [(i, "a", "up", float(i + 1), None) for i in range(20)] + [(1, "a", "down", 5000.0, "timeout")]
    figures = history(rows).percentiles(LATENCY_WINDOWS, NOW)["a"]
    assert figures["p50_1h"] == pytest.approx(10.5)
    assert figures["p95_1h"] == pytest.approx(19.1)  # 19.05, rounded to 0.1 ms


def test_both_kinds_cover_a_single_check():
    store = history([(1, "a", "up", 10.0, None)])
    assert uptime(store)["a"]["24h"] == 100.0 and store.percentiles(LATENCY_WINDOWS, NOW)["a"]["p95_24h"] == 10.0
