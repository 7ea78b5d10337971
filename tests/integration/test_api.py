"""Every REST endpoint and every error path, over real HTTP; no input gives a 500."""

from __future__ import annotations

import csv
import io

import pytest
import requests


def get(app, path, **kw):
    return requests.get(app.base + path, timeout=10, **kw)


def post(app, path, **kw):
    return requests.post(app.base + path, timeout=30, **kw)


def assert_error(response, code):
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and isinstance(body["error"], str)
    return body


def test_health_is_the_current_snapshot(running_app):
    running_app.core.monitor.run_once()
    body = get(running_app, "/api/health").json()
    assert body["type"] == "snapshot" and body["overall"] in ("down", "degraded")
    web = next(s for s in body["services"] if s["name"] == "web")
    assert web["status"] == "up" and web["http_status"] == 200 and web["latency_ms"] > 0
    assert set(web["uptime"]) == {"1h", "24h", "7d"} and "cpu_percent" in body["system"]


def test_health_never_answers_with_an_older_snapshot_than_the_live_one(running_app):
    """The body (and its gzip) is kept between changes: a sweep or a single result shows at once."""
    monitor = running_app.core.monitor
    monitor.run_once()

    def health(encoding: str) -> dict:
        response = get(running_app, "/api/health", headers={"Accept-Encoding": encoding})
        assert response.headers.get("Content-Encoding") == ("gzip" if encoding == "gzip" else None)
        assert "Accept-Encoding" in response.headers["Vary"]
        return response.json()

    first = {encoding: health(encoding) for encoding in ("identity", "gzip")}
    assert first["gzip"] == first["identity"] == health("gzip")  # asked again: the same snapshot
    monitor.run_once()
    assert [health(e)["sweep"] for e in ("gzip", "identity")] == [first["gzip"]["sweep"] + 1] * 2
    web = next(view for view in monitor.snapshot()["services"] if view["name"] == "web")
    later = web["last_checked"].replace(web["last_checked"][:4], str(int(web["last_checked"][:4]) + 1), 1)
    monitor.live.publish_result({**web, "status": "down", "last_checked": later})  # mid-sweep news
    for encoding in ("gzip", "identity"):
        now = next(view for view in health(encoding)["services"] if view["name"] == "web")
        assert now["status"] == "down" and now["last_checked"] == later


def test_health_check_runs_a_sweep_and_answers_with_it(running_app):
    before = get(running_app, "/api/loop-status").json()["sweeps"]
    body = post(running_app, "/api/health-check").json()
    assert body["sweep"] == before + 1
    assert get(running_app, "/api/loop-status").json()["sweeps"] == before + 1


def test_history_filters(running_app):
    for _ in range(3):
        running_app.core.monitor.run_once()
    body = get(running_app, "/api/history").json()
    assert body["count"] == 3 and len(body["history"][0]["results"]) == 2
    assert get(running_app, "/api/history?limit=2").json()["count"] == 2
    only = get(running_app, "/api/history?service=db").json()["history"]
    assert all(r["service"] == "db" for sweep in only for r in sweep["results"])
    since = body["history"][-1]["ts"]
    assert get(running_app, "/api/history", params={"since": since}).json()["count"] == 1


def test_history_csv_has_a_header_and_one_line_per_check(running_app):
    for _ in range(2):
        running_app.core.monitor.run_once()
    response = get(running_app, "/api/history.csv?service=web")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2 and rows[0]["service"] == "web" and rows[0]["http_status"] == "200"
    assert list(rows[0]) == ["ts", "service", "status", "latency_ms", "http_status", "error"]


def test_logs_list_and_clear(running_app):
    running_app.core.recovery_log.append({"id": "r1", "service": "web", "outcome": "recovered"})
    assert get(running_app, "/api/logs?service=web").json()["count"] == 1
    assert get(running_app, "/api/logs?service=db").json()["count"] == 0
    assert requests.delete(running_app.base + "/api/logs", timeout=5).json() == {"cleared": 1}
    assert get(running_app, "/api/logs").json()["count"] == 0


def test_metrics_and_loop_status(running_app):
    running_app.core.monitor.run_once()
    metrics = get(running_app, "/api/metrics").json()
    assert metrics["checks"] == 2 and metrics["failures"] == 1 and metrics["sweep_ms"]["last"] > 0
    assert metrics["latency"]["web"]["p50_1h"] > 0
    loop = get(running_app, "/api/loop-status").json()
    assert set(loop) >= {"running", "interval_s", "last_run", "next_run", "last_sweep_ms", "sweeps", "errors"}


def test_info_tells_the_websocket_port(running_app):
    assert get(running_app, "/api/info").json()["ws_port"] == running_app.ws.port


@pytest.mark.parametrize(
    ("method", "path", "kw", "code"),
    [
        ("get", "/api/history?limit=abc", {}, 400),
        ("get", "/api/history?limit=0", {}, 400),
        ("get", "/api/history?limit=99999999999", {}, 400),
        ("get", "/api/history?since=yesterday", {}, 400),
        ("get", "/api/history?service=nope", {}, 404),
        ("get", "/api/history.csv?limit=-1", {}, 400),
        ("get", "/api/logs?limit=x", {}, 400),
        ("get", "/api/logs?service=nope", {}, 404),
        ("post", "/api/recovery", {"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ("post", "/api/recovery", {"json": {"service": "web"}, "headers": {"Origin": "http://evil.example"}}, 403),
        ("delete", "/api/logs", {"headers": {"Sec-Fetch-Site": "cross-site"}}, 403),
        ("post", "/api/recovery", {"json": [1, 2]}, 400),
        ("post", "/api/recovery", {"json": {}}, 400),
        ("post", "/api/recovery", {"json": {"service": 5}}, 400),
        ("post", "/api/recovery", {"json": {"service": "web", "force": "yes"}}, 400),
        ("post", "/api/recovery", {"json": {"service": "nope"}}, 404),
        ("post", "/api/health-check", {"data": "{oops", "headers": {"Content-Type": "application/json"}}, 400),
        ("get", "/api/nope", {}, 404),
        ("get", "/api", {}, 404),
        ("delete", "/api/health", {}, 405),
        ("post", "/api/health", {}, 405),
        ("get", "/api/health-check", {}, 405),
        ("put", "/api/logs", {}, 405),
    ],
)
def test_bad_input_gets_a_4xx_with_the_json_error_shape(running_app, method, path, kw, code):
    response = requests.request(method, running_app.base + path, timeout=10, **kw)
    body = assert_error(response, code)
    if code == 405:
        assert response.headers["Allow"] and body["detail"]["allowed"]


def test_the_page_is_served(running_app):
    response = get(running_app, "/")
    assert response.status_code == 200 and "<title>Mission Control</title>" in response.text
