"""The edges an attacker on loopback tries: DNS rebinding, forged proxy headers, shared rate limits,
replayed sessions after a restart, hand-made Dash requests and misleading `Allow` headers."""

from __future__ import annotations

import logging
import re

import pytest
import requests
import websocket

from dash_app.factory import create_app
from dash_app.hosts import HostPolicy
from tests.integration.test_auth import KEY, assert_json_error, logged_in, start
from tests.support import http_service, make_settings

SAMPLE = {"name": "web", "path": "x"}  # fills any <converter:arg> of a route


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) for every Flask route of the HTTP app (Dash's included) and the page itself."""
    found = {("GET", "/"), ("POST", "/_dash-update-component"), ("GET", "/metrics")}
    for rule in app.server.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: SAMPLE.get(m[1], "x"), rule.rule)
        found |= {(method, path) for method in rule.methods - {"OPTIONS", "HEAD"}}
    return sorted(found)


def rebinding(port: int) -> dict:
    """What a page on evil.example, which resolves to 127.0.0.1, makes the browser send."""
    return {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}


def assert_all_refused(app, **extra) -> None:
    routes = every_route(app)
    assert len(routes) > 20
    for method, path in routes:
        answer = requests.request(
            method, app.base + path, headers=rebinding(app.http.port) | extra, json={"service": "web"}, timeout=10
        )
        assert answer.status_code == 421, (method, path, answer.status_code)
        assert answer.json()["error"] == "unknown host"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(
            f"ws://127.0.0.1:{app.ws.port}/ws?token={KEY}",
            host=f"evil.example:{app.ws.port}",
            origin=f"http://evil.example:{app.ws.port}",
            timeout=5,
        )
    assert refused.value.status_code == 421
    assert app.core.recovery_log.recent(limit=10) == []  # no recovery started


def test_rebinding_is_refused_on_every_route_and_the_websocket_without_auth(running_app):
    running_app.base = f"http://127.0.0.1:{running_app.http.port}"
    assert_all_refused(running_app)
    assert requests.get(running_app.base + "/api/health", timeout=5).ok  # by address: served
    local = requests.get(running_app.base + "/api/health", headers={"Host": "localhost"}, timeout=5)
    assert local.ok
    local_ws = {"host": f"localhost:{running_app.ws.port}", "origin": "http://localhost:9993"}
    ws = websocket.create_connection(running_app.ws_url, timeout=5, **local_ws)
    ws.close()


def test_rebinding_is_refused_with_auth_even_with_the_key(tmp_path, http_server):
    app = start(tmp_path, http_server)
    try:
        assert_all_refused(app, **{"X-API-Key": KEY})
    finally:
        app.stop()


def test_configured_host_names_are_served(tmp_path, http_server):
    settings = make_settings(
        [http_service("web", http_server)],
        auth={"allowed_hosts": ["dash.example"], "allowed_origins": ["https://public.example"]},
    )
    app = create_app(settings, data_dir=tmp_path, start_monitor=False)
    try:
        app.serve("127.0.0.1", 0, 0)
        base = f"http://127.0.0.1:{app.http.port}"
        for host in ("dash.example", "DASH.example:443", "public.example"):
            assert requests.get(base + "/api/health", headers={"Host": host}, timeout=5).ok, host
        assert requests.get(base + "/api/health", headers={"Host": "other.example"}, timeout=5).status_code == 421
    finally:
        app.stop()


@pytest.mark.parametrize(
    ("bind", "host", "ok"),
    [
        ("127.0.0.1", "127.0.0.1:9993", True),
        ("127.0.0.1", "[::1]:9993", True),
        ("127.0.0.1", "localhost", True),
        ("127.0.0.1", "app.localhost:9993", True),
        ("127.0.0.1", "10.0.0.5:9993", False),  # not how a loopback server is reached
        ("127.0.0.1", "evil.example", False),
        ("127.0.0.1", "127.0.0.1.nip.io", False),
        ("127.0.0.1", "", False),
        ("0.0.0.0", "10.0.0.5:9993", True),  # an address literal cannot be rebound
        ("0.0.0.0", "evil.example:9993", False),
        ("dash.internal", "dash.internal:9993", True),
    ],
)
def test_host_policy(bind, host, ok):
    policy = HostPolicy()
    policy.bind(bind)
    assert policy.allows(host) is ok


def flood(base: str, n: int, **headers) -> list[int]:
    return [requests.delete(base + "/api/logs", headers=headers, timeout=5).status_code for _ in range(n)]


def test_an_anonymous_flood_leaves_the_key_holder_and_a_logged_in_user_unthrottled(tmp_path, http_server):
    app = start(tmp_path, http_server, actions_per_minute=3)
    try:
        assert flood(app.base, 6) == [401, 401, 401, 429, 429, 429]  # anonymous, same address
        assert flood(app.base, 3, **{"X-API-Key": KEY}) == [200, 200, 200]
        browser = logged_in(app)
        token = browser.cookies["_csrf_token"]
        answer = browser.delete(app.base + "/api/logs", headers={"X-CSRFToken": token}, timeout=5)
        assert answer.status_code == 200
        assert flood(app.base, 1, **{"X-API-Key": KEY}) == [429]  # the key holder has its own bucket
    finally:
        app.stop()


def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path, http_server):
    app = start(tmp_path, http_server, actions_per_minute=2)
    try:  # no trusted proxy: a forged X-Forwarded-For does not buy a fresh bucket
        assert flood(app.base, 2, **{"X-Forwarded-For": "203.0.113.1"}) == [401, 401]
        assert flood(app.base, 1, **{"X-Forwarded-For": "203.0.113.2"}) == [429]
    finally:
        app.stop()
    app = start(tmp_path, http_server, actions_per_minute=2, trusted_proxies=["127.0.0.0/8"])
    try:  # behind a trusted proxy every client has its own bucket
        assert flood(app.base, 3, **{"X-Forwarded-For": "203.0.113.1"}) == [401, 401, 429]
        assert flood(app.base, 2, **{"X-Forwarded-For": "198.51.100.7, 203.0.113.2"}) == [401, 401]
    finally:
        app.stop()


def test_a_logout_still_holds_after_a_restart(tmp_path, http_server):
    app = start(tmp_path, http_server)
    try:
        browser = logged_in(app)
        copied, token = dict(browser.cookies), browser.cookies["_csrf_token"]
        browser.post(app.base + "/logout", data={"csrf": token}, allow_redirects=False, timeout=5)
    finally:
        app.stop()
    again = start(tmp_path, http_server)  # same data dir: same session key, same revocations
    try:
        replay = requests.post(
            again.base + "/api/health-check", cookies=copied, headers={"X-CSRFToken": token}, timeout=10
        )
        assert_json_error(replay, 401)
    finally:
        again.stop()


@pytest.mark.parametrize(
    "body", ["{}", "[]", '{"output": 5}', '{"output": "x.children"}', '{"output": "x.children", "inputs": 5}']
)
def test_hand_made_dash_requests_get_400_and_one_log_line(running_app, caplog, body):
    base = f"http://127.0.0.1:{running_app.http.port}"
    with caplog.at_level(logging.WARNING):
        answer = requests.post(
            base + "/_dash-update-component", data=body, headers={"Content-Type": "application/json"}, timeout=5
        )
    assert_json_error(answer, 400)
    records = [r for r in caplog.records if r.name == "dash_app.errors"]
    assert len(records) == 1 and records[0].exc_info is None and "\n" not in records[0].getMessage()


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/health-check", "POST, OPTIONS"),
        ("/api/health", "GET, HEAD, OPTIONS"),
        ("/api/logs", "GET, DELETE, HEAD, OPTIONS"),
        ("/api/services/web/maintenance", "POST, OPTIONS"),
    ],
)
def test_options_lists_only_the_api_methods(running_app, path, allow):
    answer = requests.options(f"http://127.0.0.1:{running_app.http.port}{path}", timeout=5)
    assert answer.status_code == 204 and answer.headers["Allow"] == allow


def test_options_on_an_unknown_api_path_is_404(running_app):
    answer = requests.options(f"http://127.0.0.1:{running_app.http.port}/api/nope", timeout=5)
    assert_json_error(answer, 404)
