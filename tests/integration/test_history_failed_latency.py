"""GET /api/history and its CSV: a failed check has no latency, only its error (issue 10, item 4)."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from dash_app.factory import create_app
from tests.support import Behaviour, free_port, http_service, make_settings


@pytest.fixture
def failing_app(tmp_path, http_server_factory):
    """ok answers 200, broken answers 500 (a real, timed answer), refused has nothing listening."""
    ok, broken = http_server_factory(), http_server_factory()
    broken.routes["/"] = Behaviour(status=500, body=b"boom", delay_s=0.02)
    settings = make_settings(
        [
            http_service("ok", ok),
            http_service("broken", broken),
            {"name": "refused", "url": f"http://127.0.0.1:{free_port()}/", "timeout_s": 1.0},
        ]
    )
    app = create_app(settings, data_dir=tmp_path, start_monitor=False)
    app.serve("127.0.0.1", 0, 0)
    app.base = f"http://127.0.0.1:{app.http.port}"
    for _ in range(2):
        app.core.monitor.run_once()
    yield app
    app.stop()


def test_history_gives_failed_checks_a_null_latency_and_their_error(failing_app):
    body = requests.get(failing_app.base + "/api/history", timeout=10).json()
    assert body["count"] == 2
    for sweep in body["history"]:
        results = {r["service"]: r for r in sweep["results"]}
        assert results["ok"]["latency_ms"] > 0 and results["ok"]["error"] is None
        assert results["broken"]["latency_ms"] is None and results["broken"]["error"] == "HTTP 500"
        assert results["broken"]["http_status"] == 500  # what the server answered is still told
        assert results["refused"]["latency_ms"] is None and "refused" in results["refused"]["error"]
    # Not vacuous: the probe did time the 500 (the history file keeps what was measured).
    stored = failing_app.core.store.frame(service="broken")
    assert (stored["latency_ms"] >= 20).all()


def test_history_csv_leaves_the_latency_of_failed_checks_empty(failing_app):
    response = requests.get(failing_app.base + "/api/history.csv", timeout=10)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 6
    for row in rows:
        if row["service"] == "ok":
            assert float(row["latency_ms"]) > 0 and row["error"] == ""
        else:
            assert row["latency_ms"] == "" and row["error"], row
