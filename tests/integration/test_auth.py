"""Authentication, CSRF, rate limits, WebSocket admission and security headers, over real HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests
import websocket
from werkzeug.security import generate_password_hash

from dash_app.cli import exposure_problem
from dash_app.factory import create_app
from tests.integration.processes import ROOT
from tests.support import http_service, make_settings

KEY = "k" * 24 + "-secret"
PASSWORD = "correct horse battery"


def start(tmp_path, http_server, **auth):
    auth = {"api_key": KEY, "users": [{"username": "ops", "password_hash": generate_password_hash(PASSWORD)}]} | auth
    settings = make_settings(
        [http_service("web", http_server, recovery={"action": "command", "command": ["true"]})], auth=auth
    )
    app = create_app(settings, data_dir=tmp_path, start_monitor=False)
    app.serve("127.0.0.1", 0, 0)
    app.base = f"http://127.0.0.1:{app.http.port}"
    return app


@pytest.fixture
def app(tmp_path, http_server):
    made = start(tmp_path, http_server)
    yield made
    made.stop()


def logged_in(app) -> requests.Session:
    browser = requests.Session()
    form = browser.get(app.base + "/login", timeout=5).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)[1]
    answer = browser.post(
        app.base + "/login",
        data={"username": "ops", "password": PASSWORD, "csrf": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    return browser


def assert_json_error(response, code):
    assert response.status_code == code, response.text
    assert set(response.json()) == {"error", "detail"}


def test_state_changes_need_the_key_reads_do_not(app):
    assert_json_error(requests.post(app.base + "/api/health-check", timeout=10), 401)
    assert_json_error(requests.delete(app.base + "/api/logs", timeout=10), 401)
    assert_json_error(
        requests.post(app.base + "/api/health-check", headers={"X-API-Key": "wrong" * 5}, timeout=10), 401
    )
    assert requests.post(app.base + "/api/health-check", headers={"Authorization": f"Bearer {KEY}"}, timeout=10).ok
    assert requests.delete(app.base + "/api/logs", headers={"X-API-Key": KEY}, timeout=10).ok
    assert requests.get(app.base + "/api/health", timeout=10).ok


def test_protect_reads_guards_reads_too(tmp_path, http_server):
    app = start(tmp_path, http_server, protect_reads=True)
    try:
        assert_json_error(requests.get(app.base + "/api/health", timeout=5), 401)
        page = requests.get(app.base + "/", headers={"Accept": "text/html"}, allow_redirects=False, timeout=5)
        assert page.status_code == 302 and page.headers["Location"] == "/login"
        assert requests.get(app.base + "/api/health", headers={"X-API-Key": KEY}, timeout=5).ok
        assert logged_in(app).get(app.base + "/api/health", timeout=5).ok
        for path in ("/logout", "/loginx", "/login/x", "/logoutfoo", "/anything"):  # Dash serves its page anywhere
            answer = requests.get(app.base + path, allow_redirects=False, timeout=5)
            assert answer.status_code in (302, 401) and "web" not in answer.text, path
    finally:
        app.stop()


def test_login_session_needs_csrf_for_changes(app):
    browser = logged_in(app)
    assert_json_error(browser.post(app.base + "/api/health-check", timeout=10), 403)
    token = browser.cookies["_csrf_token"]
    assert browser.post(app.base + "/api/health-check", headers={"X-CSRFToken": token}, timeout=10).ok


def test_wrong_password_and_a_form_without_its_token_are_refused(app):
    browser = requests.Session()
    form = browser.get(app.base + "/login", timeout=5).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)[1]
    wrong = browser.post(app.base + "/login", data={"username": "ops", "password": "nope", "csrf": csrf}, timeout=10)
    assert wrong.status_code == 401 and "Wrong user or password" in wrong.text
    forged = requests.post(app.base + "/login", data={"username": "ops", "password": PASSWORD}, timeout=10)
    assert forged.status_code == 403


def test_dash_action_callbacks_need_a_login(app):
    browser = requests.Session()
    browser.get(app.base + "/", timeout=5)
    token = browser.cookies["_csrf_token"]
    check_now = next(k for k, v in app.dash.callback_map.items() if v["inputs"][0]["id"] == "mc-check-now")
    before = app.core.monitor.loop_status()["sweeps"]
    for changed in (["mc-check-now.n_clicks"], []):  # leaving out what changed must not get past the guard
        body = {
            "output": check_now,
            "outputs": [],
            "inputs": [{"id": "mc-check-now", "property": "n_clicks", "value": 1}],
            "changedPropIds": changed,
        }
        answer = browser.post(
            app.base + "/_dash-update-component", json=body, headers={"X-CSRFToken": token}, timeout=5
        )
        assert_json_error(answer, 401)
    assert app.core.monitor.loop_status()["sweeps"] == before
    read = {"output": "x.children", "outputs": [], "inputs": [], "changedPropIds": []}
    no_token = browser.post(app.base + "/_dash-update-component", json=read, timeout=5)
    assert_json_error(no_token, 403)


def test_actions_are_rate_limited_with_retry_after(tmp_path, http_server):
    app = start(tmp_path, http_server, actions_per_minute=3)
    try:
        codes = [requests.delete(app.base + "/api/logs", headers={"X-API-Key": KEY}, timeout=5) for _ in range(4)]
        assert [c.status_code for c in codes] == [200, 200, 200, 429]
        assert_json_error(codes[-1], 429)
        assert 1 <= int(codes[-1].headers["Retry-After"]) <= 60
    finally:
        app.stop()


def test_login_is_rate_limited(tmp_path, http_server):
    app = start(tmp_path, http_server, login_per_minute=2)
    try:
        answers = [
            requests.post(app.base + "/login", data={"username": "x", "password": "y"}, timeout=10) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [403, 403, 429] and answers[-1].headers["Retry-After"]
    finally:
        app.stop()


def test_websocket_checks_origin_and_wants_a_session_or_token(app):
    url = f"ws://127.0.0.1:{app.ws.port}/ws"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url + f"?token={KEY}", origin="http://evil.example", timeout=5)
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as anonymous:
        websocket.create_connection(url, timeout=5)
    assert anonymous.value.status_code == 401
    with_token = websocket.create_connection(url + f"?token={KEY}", origin=app.base, timeout=5)
    assert json.loads(with_token.recv())["type"] == "snapshot"
    with_token.close()
    browser = logged_in(app)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    with_session = websocket.create_connection(url, origin=app.base, cookie=cookie, timeout=5)
    assert json.loads(with_session.recv())["type"] == "snapshot"
    with_session.close()


def test_websocket_connections_are_capped(tmp_path, http_server):
    app = start(tmp_path, http_server, max_ws_clients=2)
    try:
        url = f"ws://127.0.0.1:{app.ws.port}/ws?token={KEY}"
        open_ones = [websocket.create_connection(url, timeout=5) for _ in range(2)]
        with pytest.raises(websocket.WebSocketBadStatusException) as full:
            websocket.create_connection(url, timeout=5)
        assert full.value.status_code == 503
        for ws in open_ones:
            ws.close()
    finally:
        app.stop()


def test_security_headers_and_no_secret_is_served(app, tmp_path):
    page = requests.get(app.base + "/", timeout=5)
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and f"ws://127.0.0.1:{app.ws.port}" in csp and "'unsafe-eval'" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/api/health", "/api/info", "/api/metrics", "/api/loop-status", "/api/logs"):
        answer = requests.get(app.base + path, headers={"X-API-Key": KEY}, timeout=5)
        assert KEY not in answer.text and "password_hash" not in answer.text and "scrypt:" not in answer.text
    assert oct((tmp_path / "session_secret").stat().st_mode & 0o777) == "0o600"


def test_non_loopback_bind_without_auth_is_refused(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"services": [{"name": "a", "port": 1}]}))
    run = subprocess.run(
        [sys.executable, "-m", "dash_app", "--config", str(config), "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2 and "refusing to listen on 0.0.0.0 without authentication" in run.stderr
    settings = make_settings([{"name": "a", "port": 1}])
    assert exposure_problem("0.0.0.0", settings, insecure=True) is None
    assert exposure_problem("127.0.0.1", settings, insecure=False) is None
    assert exposure_problem("::1", settings, insecure=False) is None


def test_short_api_key_from_the_environment_is_a_config_error(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"services": [{"name": "a", "port": 1}]}))
    run = subprocess.run(
        [sys.executable, "-m", "dash_app", "--config", str(config), "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"DASHBOARD_API_KEY": "short", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 2 and run.stderr.startswith("DASHBOARD_API_KEY: ")


def test_logout_makes_a_copied_session_cookie_worthless(app):
    browser = logged_in(app)
    copied = dict(browser.cookies)
    token = browser.cookies["_csrf_token"]
    assert browser.post(app.base + "/api/health-check", headers={"X-CSRFToken": token}, timeout=10).ok
    browser.post(app.base + "/logout", data={"csrf": token}, allow_redirects=False, timeout=5)
    replay = requests.post(app.base + "/api/health-check", cookies=copied, headers={"X-CSRFToken": token}, timeout=10)
    assert_json_error(replay, 401)
