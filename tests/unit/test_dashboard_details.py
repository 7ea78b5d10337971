"""Service details helpers: the zoomable chart, its live patch, probe facts and recent checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dash import Patch

from callbacks.actions import check_text, maintenance_text
from callbacks.charts import chart_points, detail_figure, status_runs, with_gaps
from callbacks.details import check_rows, data_patch, probe_items, view_of
from config import settings_from_dict
from ops.history.embedded import EmbeddedStore
from ops.probes import ProbeResult

NOW = datetime.now(UTC).replace(microsecond=0)


def history(rows: list[tuple]) -> EmbeddedStore:
    """rows: (seconds before NOW, status, latency, error) of the service "svc"."""
    store = EmbeddedStore(None, timedelta(days=8))
    for ago, status, latency, error in rows:
        ts = NOW - timedelta(seconds=ago)
        store.append(
            ts, [ProbeResult("svc", error is None, latency, 200 if error is None else None, error, ts, status)]
        )
    return store


def points_of(rows: list[tuple], window: str = "1h") -> list:
    return chart_points(history(rows), "svc", window, NOW)


def test_chart_points_keep_small_windows_and_mark_failures():
    points = points_of([(30, "up", 10.0, None), (20, "down", 1.0, "connection refused"), (10, "up", 12.0, None)])
    assert len(points) == 3
    assert [p.failed for p in points] == [0, 1, 0]
    assert points[1].latency_ms is None  # a refused connection's time is no latency
    assert points[1].error == "connection refused"


def test_chart_points_bucket_long_windows_keeping_the_worst_status():
    rows = [(i * 40, "up", 20.0, None) for i in range(3000, 0, -1)]
    rows[1500] = (rows[1500][0], "down", None, "timeout")
    points = history(rows).chart_points("svc", timedelta(days=7), 500, NOW)
    assert len(points) <= 500
    assert "down" in [p.status for p in points]
    assert sum(p.failed for p in points) == 1 and sum(p.checks for p in points) == 3000
    assert [p.ts for p in points] == sorted(p.ts for p in points)


def test_status_runs_merge_equal_neighbours_and_end_at_now():
    runs = status_runs([0, 10, 20, 30, 40], ["up", "up", "down", "down", "up"], end=55)
    assert runs == [("up", 0, 20), ("down", 20, 40), ("up", 40, 55)]
    assert status_runs([], [], end=5) == []


def test_detail_figure_is_zoomable_with_a_range_slider_and_a_stable_uirevision():
    points = points_of([(30, "up", 10.0, None), (20, "down", 1.0, "refused"), (10, "degraded", 800.0, None)])
    figure = detail_figure("svc", points, "1h", NOW, UTC, sweep=4)
    layout = figure["layout"]
    assert layout["xaxis"]["rangeslider"]["visible"] is True
    assert layout["xaxis"]["autorange"] is True and "range" not in layout["xaxis"]  # so a zoom can stick
    assert layout["dragmode"] == "zoom" and layout["yaxis"]["fixedrange"] is True
    assert layout["uirevision"] == "svc|1h"
    assert layout["meta"] == {"service": "svc", "window": "1h", "sweep": 4}
    latency, failed, *timeline, anchor = figure["data"]
    # The x axis spans the whole window even with 30 s of history (issue 10, item 6).
    assert anchor["x"][1] - anchor["x"][0] == 3600 * 1000 and anchor["hoverinfo"] == "skip"
    assert latency["y"] == [10.0, None, 800.0]
    assert [error for _, error in failed["customdata"]] == ["refused"] and len(failed["x"]) == 1
    assert {t["name"] for t in timeline} == {"UP", "DOWN", "DEGRADED"}
    assert all(t["orientation"] == "h" and (t["xaxis"], t["yaxis"]) == ("x2", "y2") for t in timeline)
    assert layout["xaxis2"]["matches"] == "x"  # the timeline zooms with the latency
    assert all("<br>" not in t.get("hovertemplate", "") for t in figure["data"])
    later = detail_figure("svc", points, "1h", NOW + timedelta(minutes=1), UTC, 5)
    assert later["layout"]["uirevision"] == layout["uirevision"]


def test_the_chart_line_breaks_where_nothing_was_measured():
    points = points_of([(3600, "up", 10.0, None), (3580, "up", 11.0, None), (100, "up", 12.0, None)])
    latency = detail_figure("svc", points, "1h", NOW, UTC, interval_s=20)["data"][0]
    assert latency["y"] == [10.0, 11.0, None, 12.0]  # 58 min without checks: a break, not a straight line
    assert with_gaps([0, 10, 100], [["a", "b", "c"]], 50, ["-"]) == ([0, 10, 55, 100], [["a", "b", "-", "c"]])


def test_a_live_update_patches_only_data_and_meta():
    figure = detail_figure("svc", points_of([(10, "up", 10.0, None)], "24h"), "24h", NOW, UTC, sweep=2)
    patch = data_patch(figure)
    assert isinstance(patch, Patch)
    operations = patch.to_plotly_json()["operations"]
    assert {tuple(op["location"]) for op in operations} == {("data",), ("layout", "meta")}


def test_probe_items_describe_target_thresholds_and_recovery():
    settings = settings_from_dict(
        {
            "services": [
                {
                    "name": "api",
                    "port": 8080,
                    "health_endpoint": "/health",
                    "expect_body": "ok",
                    "degraded_latency_ms": 500,
                    "failure_threshold": 2,
                    "tags": ["core"],
                    "recovery": {"action": "http", "url": "http://127.0.0.1:1/restart", "auto": False},
                },
                {"name": "db", "type": "tcp", "port": 5432},
            ]
        }
    )
    api = dict(probe_items(settings.service("api"), {"recovery_attempts": 2}, 40, UTC))
    assert api["Probe"] == "HTTP GET" and api["Target"] == "http://127.0.0.1:8080/health"
    assert api["Expects"] == "HTTP 200–399, body contains “ok”"
    assert api["Degraded above"] == "500 ms" and api["Down after"] == "2 failed checks in a row"
    assert api["Recovery"] == "http (manual)" and api["Recent attempts"] == "2" and api["Tags"] == "core"
    db = dict(probe_items(settings.service("db"), {}, 40, UTC))
    assert db["Probe"] == "TCP connect" and db["Target"] == "127.0.0.1:5432" and "Expects" not in db


def test_check_rows_are_newest_first_with_plain_values():
    checks = history([(20, "up", 10.0, None), (10, "down", 2.0, "refused")]).recent_checks(service="svc")
    rows = check_rows(checks, UTC)
    assert [r["status"] for r in rows] == ["down", "up"]
    assert rows[0]["error"] == "refused" and rows[0]["http_status"] is None and rows[0]["latency_ms"] is None
    assert rows[1]["http_status"] == 200 and rows[1]["latency_ms"] == 10.0
    assert len(check_rows(checks, UTC, limit=1)) == 1


def test_view_of_finds_a_service_or_nothing():
    snap = {"services": [{"name": "a", "status": "up"}]}
    assert view_of(snap, "a")["status"] == "up"
    assert view_of(snap, "zzz") == {}


def test_action_results_read_as_sentences():
    view = {"last_checked": "2026-01-01T00:00:00+00:00", "status": "down", "latency_ms": 1.5, "error": "refused"}
    assert check_text(view, UTC) == "Checked at 00:00:00: DOWN (refused)."  # a failed check has no latency
    assert check_text({**view, "status": "up", "error": None}, UTC) == "Checked at 00:00:00: UP, 1.5 ms."
    assert (
        maintenance_text("api", True, 1800)
        == "api is in maintenance for 30 min: no automatic recovery, no uptime counted."
    )
    assert maintenance_text("api", True, None).startswith("api is in maintenance until you end it")
    assert maintenance_text("api", False, None) == "Maintenance of api ended."


def test_the_panel_gives_30_and_90_day_uptime_within_what_the_store_keeps(tmp_path):
    from callbacks.details import long_uptime

    store = EmbeddedStore(tmp_path / "history.jsonl", timedelta(hours=48), timedelta(days=90))
    store.load()
    for days, error in ((60, "refused"), (20, None), (10, None), (0, None)):  # 60 days: only in the 90
        ts = NOW - timedelta(days=days)
        store.append(ts, [ProbeResult("svc", error is None, 5.0, 200, error, ts, "down" if error else "up")])
    assert long_uptime(store, "svc", NOW) == [("Uptime", "30 d 100 % · 90 d 75.0 %")]
    store.close()
    short = EmbeddedStore(tmp_path / "short.jsonl", timedelta(hours=48), timedelta(days=30))
    short.load()
    assert long_uptime(short, "svc", NOW) == [("Uptime", "30 d —")]  # nothing checked; 90 d is not kept
    short.close()
