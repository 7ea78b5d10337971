"""GET /api/sparks: the last checks the page's sparklines and heartbeat strips start from, over real HTTP."""

from __future__ import annotations

import requests

from ops.recent_checks import SPARK_POINTS
from tests.integration.test_api import assert_error, get


def test_sparks_hold_the_last_checks_of_the_asked_services_oldest_first(running_app):
    for _ in range(4):
        running_app.core.monitor.run_once()
    body = get(running_app, "/api/sparks?service=web&service=db&points=3").json()
    assert body["fields"] == ["t_ms", "latency_ms", "status", "error"] and body["points"] == 3
    assert set(body["services"]) == {"web", "db"}
    web, db = body["services"]["web"], body["services"]["db"]
    assert len(web) == 3 and [p[0] for p in web] == sorted(p[0] for p in web)
    assert all(p[1] > 0 and p[3] is None for p in web)
    # db (port 1) refuses: a failed check has no latency, its error says why.
    assert all(p[1] is None and p[3] for p in db)
    history = get(running_app, "/api/history?service=web&limit=1").json()["history"][-1]
    assert web[-1][2] == history["results"][0]["status"]


def test_sparks_without_a_service_cover_the_whole_fleet(running_app):
    running_app.core.monitor.run_once()
    body = get(running_app, "/api/sparks").json()
    assert set(body["services"]) == {"web", "db"} and body["points"] == SPARK_POINTS


def test_bad_sparks_requests_get_a_json_error(running_app):
    assert_error(get(running_app, "/api/sparks?service=nobody"), 404)
    assert_error(get(running_app, "/api/sparks?points=0"), 400)
    assert_error(get(running_app, "/api/sparks?points=lots"), 400)
    many = "&".join(["service=web"] * 1001)
    assert_error(requests.get(running_app.base + "/api/sparks?" + many, timeout=10), 400)
