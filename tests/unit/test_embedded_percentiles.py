"""The embedded store's per-service percentiles, worked for all services at once, are numpy's own."""

from __future__ import annotations

import numpy as np
import pytest

from ops.history.embedded_queries import _percentiles_by_service

QS = (0, 1, 5, 25, 50, 90, 95, 99, 100)


@pytest.mark.parametrize("seed", range(5))
def test_every_service_gets_the_very_floats_np_percentile_gives(seed):
    rng = np.random.default_rng(seed)
    services = 60
    sizes = rng.choice([0, 1, 2, 3, 7, 90, 1001], size=services)  # none, a few, many; ties below
    codes = np.repeat(np.arange(services), sizes)
    values = np.round(rng.uniform(0.1, 3000, size=len(codes)), 1)
    values[::5] = 42.0
    shuffle = rng.permutation(len(codes))
    codes, values = codes[shuffle], values[shuffle]

    found, rows = _percentiles_by_service(codes, values, services, QS)

    assert found.tolist() == [i for i in range(services) if sizes[i]]
    for code, row in zip(found, rows, strict=True):
        expected = np.percentile(values[codes == code], list(QS))
        assert row.tolist() == expected.tolist()  # bit for bit, not approximately


def test_a_service_without_values_is_left_out():
    found, rows = _percentiles_by_service(np.array([2, 2]), np.array([5.0, 1.0]), 4, (50, 95))
    assert found.tolist() == [2]
    assert rows.tolist() == [np.percentile([1.0, 5.0], [50, 95]).tolist()]


def test_window_percentiles_count_sweeps_not_merged_yet_without_merging_them():
    """The cards ask for the last hour's p95 every sweep: the pending sweeps (a service seen only there
    too) count as merged ones would, and the ask leaves them pending (a merge copies the history)."""
    from datetime import UTC, datetime, timedelta

    from ops.check_result import ProbeResult
    from ops.history.embedded import EmbeddedStore

    store = EmbeddedStore(None, timedelta(days=7))
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    rng = np.random.default_rng(7)
    rows = []  # (ts, service, latency or None)
    for minute in range(120, -1, -1):
        ts = now - timedelta(minutes=minute)
        names = ["a", "b"] + (["late"] if minute < 10 else [])  # "late" exists only in pending sweeps
        results = []
        for name in names:
            latency = None if rng.random() < 0.1 else float(np.round(rng.uniform(1, 500), 1))
            error = "timeout" if latency is None else None
            results.append(ProbeResult(name, latency is not None, latency, 200, error, ts, "up"))
            rows.append((ts, name, latency))
        store.append(ts, results)
        if minute == 30:
            store.frame()  # sweeps up to here merged into the frame, the rest pending
    assert store._pending  # the last half hour is still pending

    got = store.percentiles({"1h": timedelta(hours=1)}, now, qs=(50, 95))

    assert store._pending, "reading a window must not merge the pending sweeps"
    recent = [(name, ms) for ts, name, ms in rows if ts >= now - timedelta(hours=1) and ms is not None]
    expected = np.percentile([ms for _, ms in recent], [50, 95])
    assert [got["*"]["p50_1h"], got["*"]["p95_1h"]] == [round(float(v), 1) for v in expected]
    for name in ("a", "late"):
        mine = np.percentile([ms for n, ms in recent if n == name], [50, 95])
        assert [got[name]["p50_1h"], got[name]["p95_1h"]] == [round(float(v), 1) for v in mine]
    assert store.percentiles({"1h": timedelta(hours=1)}, now, qs=(95,), service="late")["late"]["p95_1h"] == round(
        float(np.percentile([ms for n, ms in recent if n == "late"], 95)), 1
    )
