"""Uptime and latency figures come from the history, and only from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ops.history_file import Columns
from ops.history_frame import frame_from_columns
from ops.stats import latency_percentiles, service_figures, uptime

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def frame(rows):
    """rows: (minutes ago, service, status, latency, error)."""
    columns = Columns()
    for minutes, service, status, latency, error in sorted(rows, key=lambda r: -r[0]):  # oldest first, as stored
        columns.add_rows(NOW - timedelta(minutes=minutes), [(service, status, latency, 200, error)])
    return frame_from_columns(columns)


def test_uptime_is_the_share_of_checks_that_passed_degraded_included():
    data = frame(
        [
            (1, "a", "up", 10, None),
            (2, "a", "degraded", 10, None),
            (3, "a", "down", None, "x"),
            (4, "a", "pending", None, "x"),
            (5, "a", "up", 10, None),
        ]
    )
    # up, degraded and up passed; the failure still below the threshold (pending) counts as failed
    assert uptime(data, NOW)["a"]["1h"] == pytest.approx(60.0)


def test_uptime_windows_differ():
    data = frame([(10, "a", "up", 10, None), (120, "a", "down", None, "x"), (60 * 48, "a", "down", None, "x")])
    figures = uptime(data, NOW)["a"]
    assert figures == {"1h": 100.0, "24h": 50.0, "7d": pytest.approx(100 / 3, abs=0.001)}


def test_maintenance_is_left_out_of_uptime():
    data = frame([(1, "a", "maintenance", None, "x"), (2, "a", "up", 10, None)])
    assert uptime(data, NOW)["a"]["1h"] == 100.0


def test_latency_percentiles_use_successful_checks_only():
    rows = [(i, "a", "up", float(i + 1), None) for i in range(20)] + [(1, "a", "down", 5000.0, "timeout")]
    figures = latency_percentiles(frame(rows), NOW)["a"]
    assert figures["p50_1h"] == pytest.approx(10.5)
    assert figures["p95_1h"] == pytest.approx(19.1)  # 19.05, rounded to 0.1 ms


def test_service_figures_has_both_kinds():
    figures = service_figures(frame([(1, "a", "up", 10.0, None)]), NOW)
    assert figures["a"]["uptime"]["24h"] == 100.0 and figures["a"]["latency"]["p95_24h"] == 10.0
