"""GET /api/uptime: uptime and percentiles over windows up to 90 days, over real HTTP to a real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dash_app.factory import create_app
from ops.check_result import ProbeResult
from ops.history.buckets import bucket_index, bucket_value
from tests.integration.test_api import assert_error, get
from tests.support import http_service, make_settings


def old_sweep(store, ts: datetime, ok: bool) -> None:
    """A sweep from before this process, as a history file or database may hold it."""
    results = [
        ProbeResult("web", ok, 40.0 if ok else None, 200 if ok else None, None if ok else "HTTP 503", ts,
                    "up" if ok else "down"),
        ProbeResult("db", False, None, None, "connection refused", ts, "down"),
        ProbeResult("gone", True, 5.0, 200, None, ts, "up"),  # a service no longer in the config
    ]  # fmt: skip
    store.append(ts, results)


def test_long_windows_count_the_old_checks_the_page_windows_do_not(running_app):
    now = datetime.now(UTC)
    for days, ok in ((20, True), (20.01, False), (10, True)):  # kept beyond the raw 48 h: read from rollups
        old_sweep(running_app.core.store, now - timedelta(days=days), ok)
    for _ in range(3):
        running_app.core.monitor.run_once()
    body = get(running_app, "/api/uptime?window=1h&window=30d").json()
    assert body["windows"] == ["1h", "30d"] and datetime.fromisoformat(body["as_of"]) >= now
    assert body["storage"]["ok"] is True  # the figures are read, not nulls from a store out of reach
    assert set(body["services"]) == {"web", "db"}  # the configured services only
    web, db = body["services"]["web"], body["services"]["db"]
    assert web["uptime"] == {"1h": 100.0, "30d": round(100 * 5 / 6, 3)}  # one failure in six checks
    assert db["uptime"] == {"1h": 0.0, "30d": 0.0}
    assert db["p50_ms"] == {"1h": None, "30d": None}  # a failed check has no latency
    # 30 days: two old answers at 40 ms and three live ones on loopback; p95 is one of the old ones' bucket.
    assert web["p95_ms"]["30d"] == round(bucket_value(bucket_index(40.0)), 1)
    assert 0 < web["p50_ms"]["1h"] < 40 and body["fleet"]["p50_ms"]["1h"] == web["p50_ms"]["1h"]


def test_one_service_and_the_default_windows(running_app):
    running_app.core.monitor.run_once()
    body = get(running_app, "/api/uptime?service=web").json()
    assert body["windows"] == ["24h", "7d", "30d"] and list(body["services"]) == ["web"]
    assert "fleet" not in body  # one service's "fleet" would only repeat it
    assert body["services"]["web"]["uptime"] == {"24h": 100.0, "7d": 100.0, "30d": 100.0}
    assert get(running_app, "/api/uptime?window=7d,90d,7d").json()["windows"] == ["7d", "90d"]


def test_bad_uptime_requests_get_a_json_error(running_app):
    assert_error(get(running_app, "/api/uptime?service=nobody"), 404)
    body = assert_error(get(running_app, "/api/uptime?window=1y"), 400)
    assert "window must be one of 1h, 24h, 7d, 30d, 90d" in body["error"] and body["detail"]["window"] == ["1y"]


@pytest.fixture
def short_retention_app(tmp_path, http_server, request):
    settings = make_settings([http_service("web", http_server)], retention_days=request.param)
    app = create_app(settings, data_dir=tmp_path, start_monitor=False)
    app.serve("127.0.0.1", 0, 0)
    app.base = f"http://127.0.0.1:{app.http.port}"
    yield app
    app.stop()


@pytest.mark.parametrize("short_retention_app", [30], indirect=True)
def test_a_window_longer_than_the_history_is_kept_is_refused(short_retention_app):
    body = assert_error(get(short_retention_app, "/api/uptime?window=30d,90d"), 400)
    assert "kept 30 days" in body["error"] and body["detail"] == {"window": ["90d"], "retention_days": 30}
    assert get(short_retention_app, "/api/uptime?window=30d").status_code == 200


@pytest.mark.parametrize("short_retention_app", [7], indirect=True)
def test_the_default_windows_are_those_the_history_holds(short_retention_app):
    short_retention_app.core.monitor.run_once()
    body = get(short_retention_app, "/api/uptime").json()
    assert body["windows"] == ["24h", "7d"] and body["services"]["web"]["uptime"] == {"24h": 100.0, "7d": 100.0}
