"""The health table's pure helpers: rows from a snapshot, filter, sort, sparklines, in-place updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from callbacks.sparklines import spark_key, spark_points, sparkline_figure
from callbacks.table import (
    DEFAULT_SORT,
    filter_rows,
    next_sort,
    rows_from_snapshot,
    sort_rows,
    table_view,
)
from layouts.table import ROW_HEIGHT, cell_view, table_row
from ops.probes import ProbeResult
from ops.store import HistoryStore

NOW = datetime.now(UTC).replace(microsecond=0)  # inside the store's retention


def view(name: str, status: str = "up", latency: float | None = 10.0, **extra) -> dict:
    base = {
        "name": name,
        "type": "http",
        "target": f"http://127.0.0.1:1/{name}",
        "tags": ["core"] if name == "alpha" else [],
        "enabled": True,
        "status": status,
        "latency_ms": latency,
        "error": None if status == "up" else "connection refused",
        "uptime": {"1h": 100.0, "24h": 99.5, "7d": None},
        "consecutive_failures": 0 if status == "up" else 4,
        "last_checked": NOW.isoformat(),
    }
    base.update(extra)
    return base


def snapshot(*views: dict, sweep: int = 7) -> dict:
    return {"type": "snapshot", "time": NOW.isoformat(), "sweep": sweep, "services": list(views)}


def history(names: list[str], sweeps: int, statuses: dict | None = None) -> HistoryStore:
    store = HistoryStore(None, timedelta(days=7))
    for k in range(sweeps):
        ts = NOW - timedelta(seconds=10 * (sweeps - k))
        results = []
        for i, name in enumerate(names):
            status = (statuses or {}).get((name, k), "up")
            ok = status != "down"
            results.append(
                ProbeResult(name, ok, 10.0 * (i + 1) + k, 200 if ok else None, None if ok else "x", ts, status)
            )
        store.append(ts, results)
    return store


def test_rows_from_snapshot_carry_the_figures_and_local_times():
    rows = rows_from_snapshot(snapshot(view("alpha"), view("beta", "down", maintenance=True)), ZoneInfo("Asia/Tokyo"))
    assert [r["name"] for r in rows] == ["alpha", "beta"]
    alpha, beta = rows
    assert alpha["latency_ms"] == 10.0 and alpha["uptime_24h"] == 99.5 and alpha["uptime_7d"] is None
    assert alpha["last_checked_text"] == NOW.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M:%S")
    assert beta["status"] == "down" and beta["failures"] == 4 and beta["maintenance"] is True
    assert beta["recovering"] is False and beta["needs_attention"] is False  # absent fields read as False


def test_filter_matches_name_target_and_tag_and_status_groups():
    rows = rows_from_snapshot(
        snapshot(view("alpha"), view("beta", "down"), view("gamma", "degraded"), view("delta", needs_attention=True)),
        UTC,
    )
    names = lambda rs: [r["name"] for r in rs]  # noqa: E731
    assert names(filter_rows(rows, "ALP", "all")) == ["alpha"]
    assert names(filter_rows(rows, "core", None)) == ["alpha"]  # a tag
    assert names(filter_rows(rows, "127.0.0.1:1/gam", "all")) == ["gamma"]  # the target
    assert names(filter_rows(rows, "", "problems")) == ["beta", "gamma", "delta"]
    assert names(filter_rows(rows, "", "down")) == ["beta"]
    assert names(filter_rows(rows, "zzz", "all")) == []


def test_sort_puts_the_worst_first_and_missing_values_last_both_ways():
    rows = rows_from_snapshot(
        snapshot(view("b-up", latency=5), view("a-down", "down", latency=None), view("c-degraded", "degraded", 900)),
        UTC,
    )
    names = lambda rs: [r["name"] for r in rs]  # noqa: E731
    assert names(sort_rows(rows, DEFAULT_SORT)) == ["a-down", "c-degraded", "b-up"]
    assert names(sort_rows(rows, {"col": "latency", "dir": "asc"})) == ["b-up", "c-degraded", "a-down"]
    assert names(sort_rows(rows, {"col": "latency", "dir": "desc"})) == ["c-degraded", "b-up", "a-down"]
    assert names(sort_rows(rows, {"col": "name", "dir": "desc"})) == ["c-degraded", "b-up", "a-down"]
    assert names(sort_rows(rows, {"col": "no-such-column", "dir": "asc"})) == ["a-down", "c-degraded", "b-up"]


def test_next_sort_flips_the_same_column_and_starts_another_ascending():
    assert next_sort({"col": "name", "dir": "asc"}, "name") == {"col": "name", "dir": "desc"}
    assert next_sort({"col": "name", "dir": "desc"}, "name") == {"col": "name", "dir": "asc"}
    assert next_sort({"col": "name", "dir": "desc"}, "latency") == {"col": "latency", "dir": "asc"}


def test_spark_points_keep_the_last_checks_of_each_service():
    frame = history(["a", "b"], 12).frame()
    points = spark_points(frame, points=5)
    assert points.groupby("service", observed=True).size().to_dict() == {"a": 5, "b": 5}
    assert points[points["service"] == "a"]["ts"].is_monotonic_increasing


def test_sparkline_figure_draws_one_band_per_row_in_row_order():
    frame = history(["a", "b", "c"], 6, statuses={("b", 3): "down"}).frame()
    figure = sparkline_figure(spark_points(frame), ["c", "a", "b"], UTC, sweep=9)
    line, dots, up_beats, down_beats = figure["data"]
    assert figure["layout"]["meta"] == {"sweep": 9, "order": ["c", "a", "b"]}
    assert figure["layout"]["height"] == 3 * ROW_HEIGHT
    assert figure["layout"]["yaxis"]["range"] == [3, 0]  # row 0 at the top, like the table
    bands = [int(y) for y in line["y"] if y is not None]
    assert bands == [0] * 6 + [1] * 6 + [2] * 5  # c, then a, then b; each inside its own band
    # Breaks between the rows' lines (2) and at b's failed check, which has no latency to draw (1).
    assert line["y"].count(None) == 3
    assert all(0.05 < y - int(y) < 0.9 for y in line["y"] if y is not None)
    # Markers only where they say something: each row's latest check and b's failed one.
    assert len(dots["x"]) == 4
    assert "#dc3545" in dots["marker"]["color"]
    # Native hover, one line, with the latency in words.
    assert "<br>" not in line["hovertemplate"]
    assert line["text"][0].endswith("ms · UP")
    assert "DOWN · x" in dots["text"]  # the failed check: its error, no latency
    # The heartbeat strip: one block per check, status by colour and shape, hover with time/status/error.
    assert (up_beats["xaxis"], down_beats["xaxis"]) == ("x2", "x2")
    assert up_beats["mode"] == "lines" and up_beats["line"]["width"] == 6  # plain blocks (dashed in the browser)
    slots = [(x, t) for x, t in zip(up_beats["x"], up_beats["text"], strict=True) if x is not None and x == int(x)]
    assert len(slots) == 17 and all(t.endswith(" · UP") for _, t in slots)  # a hover text per up check
    assert down_beats["marker"]["symbol"] == "x" and down_beats["marker"]["color"] == "#dc3545"
    assert len(down_beats["x"]) == 1 and down_beats["text"][0].endswith("· DOWN · x")
    newest = figure["layout"]["xaxis2"]["range"][1] - 0.7
    assert max(x for x in up_beats["x"] if x is not None) == newest + 0.3  # newest on the right
    # b's failed check sits between two runs of up blocks: three runs for three rows plus one more.
    assert up_beats["x"].count(None) == 3


def test_sparkline_lines_break_at_gaps_longer_than_two_intervals():
    store = HistoryStore(None, timedelta(days=7))
    for ts in (NOW - timedelta(minutes=20), NOW - timedelta(minutes=19), NOW - timedelta(minutes=2), NOW):
        store.append(ts, [ProbeResult("a", True, 5.0, 200, None, ts, "up")])
    line = sparkline_figure(spark_points(store.frame()), ["a"], UTC, interval_s=60)["data"][0]
    assert line["y"][2] is None and line["y"].count(None) == 1  # 17 min without checks: no line across
    assert sparkline_figure(spark_points(store.frame()), ["a"], UTC, interval_s=600)["data"][0]["y"].count(None) == 0


def test_sparkline_times_are_the_operators_wall_clock():
    frame = history(["a"], 2).frame()
    utc = sparkline_figure(spark_points(frame), ["a"], UTC)["data"][0]["x"][0]
    tokyo = sparkline_figure(spark_points(frame), ["a"], ZoneInfo("Asia/Tokyo"))["data"][0]["x"][0]
    assert tokyo - utc == 9 * 3600 * 1000


def test_table_view_skips_the_figure_when_nothing_it_shows_changed():
    snap = snapshot(view("a"), view("b"))
    calls = []

    def frame():
        calls.append(1)
        return history(["a", "b"], 3).frame()

    first = table_view(snap, frame, DEFAULT_SORT, "", "all", UTC)
    assert first["figure"] is not None and first["key"] == spark_key(snap, ["a", "b"], UTC)
    again = table_view(snap, frame, DEFAULT_SORT, "", "all", UTC, first["key"])
    assert again["figure"] is None and len(calls) == 1  # no history read either
    resorted = table_view(snap, frame, {"col": "name", "dir": "desc"}, "", "all", UTC, first["key"])
    assert resorted["figure"]["layout"]["meta"]["order"] == ["b", "a"]
    assert table_view(snap, frame, None, "a", "all", UTC)["count_text"] == "1 of 2 services"


def test_cells_show_what_the_row_holds():
    row = rows_from_snapshot(snapshot(view("a", "down", latency=None, uptime={"1h": 98.0})), UTC)[0]
    # A failed check has no latency: the cell says what failed (and its title holds all of it).
    assert cell_view(row, "latency")[0] == "connection refused" and cell_view(row, "latency")[2] == "connection refused"
    slow = rows_from_snapshot(snapshot(view("b", "degraded", latency=1234.5)), UTC)[0]
    assert cell_view({**slow, "error": None}, "latency")[0] == "1234 ms"
    text, css, _ = cell_view(row, "uptime_1h")
    assert text == "98.0 %" and "text-danger-emphasis" in css
    assert cell_view(row, "last_checked")[2] == NOW.isoformat(timespec="seconds")  # ISO with offset on hover
    assert cell_view(row, "failures")[0] == "4"


def test_a_flapping_service_carries_its_flag_to_the_row():
    rows = rows_from_snapshot(snapshot(view("alpha", flapping=True), view("beta")), UTC)
    assert [r["flapping"] for r in rows] == [True, False]
    rendered = str(table_row(rows[0], selected=False, sweep=1))
    assert "data-flag='flapping'" in rendered and "Flapping" in rendered
    assert "flapping" not in str(table_row(rows[1], selected=False, sweep=1))
