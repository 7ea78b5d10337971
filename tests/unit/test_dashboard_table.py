"""The health table's server side: sort parameters, the browser's table config, the last checks it draws.

Filter, sort and the rows themselves run in the browser (assets/22_mc_table.js): tests/browser covers them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callbacks.table import next_sort, parse_sort
from layouts.common import FLAGS, STATUS_STYLE
from layouts.table import COLUMNS, ROW_HEIGHT, VALUE_COLUMNS, table_config
from ops.history.embedded import EmbeddedStore
from ops.probes import ProbeResult

NOW = datetime.now(UTC).replace(microsecond=0)  # inside the store's retention


def history(names: list[str], sweeps: int, down: set[tuple[str, int]] = frozenset()) -> EmbeddedStore:
    store = EmbeddedStore(None, timedelta(days=7))
    for k in range(sweeps):
        ts = NOW - timedelta(seconds=10 * (sweeps - k))
        results = []
        for i, name in enumerate(names):
            ok = (name, k) not in down
            status = "up" if ok else "down"
            results.append(
                ProbeResult(name, ok, 10.0 * (i + 1) + k, 200 if ok else None, None if ok else "refused", ts, status)
            )
        store.append(ts, results)
    return store


def test_next_sort_flips_the_same_column_and_starts_another_ascending():
    assert next_sort({"col": "name", "dir": "asc"}, "name") == {"col": "name", "dir": "desc"}
    assert next_sort({"col": "name", "dir": "desc"}, "name") == {"col": "name", "dir": "asc"}
    assert next_sort({"col": "name", "dir": "desc"}, "latency") == {"col": "latency", "dir": "asc"}
    assert next_sort(None, "status") == {"col": "status", "dir": "desc"}


def test_the_phone_sort_control_takes_only_known_columns_and_directions():
    assert parse_sort("latency.desc") == {"col": "latency", "dir": "desc"}
    assert parse_sort("uptime_24h.asc") == {"col": "uptime_24h", "dir": "asc"}
    for bad in (None, "", "latency", "latency.sideways", "password.asc", ".asc"):
        assert parse_sort(bad) is None


def test_table_config_tells_the_browser_every_column_status_and_flag():
    config = table_config()
    assert [c["key"] for c in config["columns"]] == [key for key, _, _ in COLUMNS]
    assert config["value_columns"] == list(VALUE_COLUMNS)
    assert set(config["status_style"]) == set(STATUS_STYLE)
    assert [f[0] for f in config["flags"]] == [f[0] for f in FLAGS]
    assert "flapping" in [f[0] for f in config["flags"]]
    assert config["row_height"] == ROW_HEIGHT


def test_spark_points_keep_the_last_points_of_each_asked_service_oldest_first():
    store = history(["a", "b", "c"], sweeps=8, down={("b", 6)})
    out = store.spark_points(["b", "a", "nobody"], 5, NOW - timedelta(days=1))
    assert list(out) == ["b", "a", "nobody"]
    assert out["nobody"] == []
    assert len(out["a"]) == 5
    stamps = [p[0] for p in out["a"]]
    assert stamps == sorted(stamps) and stamps[-1] == int((NOW - timedelta(seconds=10)).timestamp() * 1000)
    assert [p[1] for p in out["a"]] == [13.0, 14.0, 15.0, 16.0, 17.0]
    # A failed check has no latency: its error says what happened.
    failed = out["b"][-2]
    assert failed[1:] == [None, "down", "refused"]
    assert out["b"][-1][1:] == [27.0, "up", None]


def test_spark_points_of_an_empty_history_are_empty_lists():
    assert EmbeddedStore(None, timedelta(days=1)).spark_points(["a"], 30, NOW - timedelta(days=1)) == {"a": []}
