"""The recovery endpoints over real HTTP: 202/409/404/400, maintenance, circuit reset, switches."""

from __future__ import annotations

import sys
import threading

import pytest
import requests

from dash_app.factory import create_app
from tests.integration.recovery_support import FAST_POLICY, ChildServer, wait_finished
from tests.support import free_port, make_settings

SLOW = [sys.executable, "-c", "import time; time.sleep(1.5)"]


@pytest.fixture
def app(tmp_path):
    """The whole app: "slow" recovers with a 1.5 s command, "web" is a live child-process server."""
    server = ChildServer()
    services = [
        {"name": "slow", "type": "tcp", "port": free_port(), "recovery": {"action": "command", "command": SLOW}},
        {"name": "web", "url": f"http://127.0.0.1:{server.port}/", "recovery": {"action": "command", "command": SLOW}},
        {"name": "plain", "type": "tcp", "port": free_port()},
    ]
    settings = make_settings(services, recovery={**FAST_POLICY, "verify_timeout_s": 0.2})
    mc = create_app(settings, data_dir=tmp_path, start_monitor=False)
    mc.serve("127.0.0.1", 0, 0)
    mc.base = f"http://127.0.0.1:{mc.http.port}"
    yield mc
    mc.stop()
    server.close()


def post(app, path, **kw):
    return requests.post(app.base + path, timeout=10, **kw)


def test_two_simultaneous_requests_start_one_recovery_and_get_one_409(app):
    barrier, answers = threading.Barrier(2), []

    def ask():
        barrier.wait()
        answers.append(post(app, "/api/recovery", json={"service": "slow"}))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    accepted, refused = sorted(answers, key=lambda r: r.status_code)
    assert (accepted.status_code, refused.status_code) == (202, 409)
    entry = accepted.json()
    assert entry["id"] and entry["outcome"] == "running" and entry["service"] == "slow"
    body = refused.json()
    assert set(body) == {"error", "detail"} and body["detail"]["reason"] == "already_running"
    assert body["detail"]["id"] == entry["id"]
    done = wait_finished(app.core, "slow")
    assert done["id"] == entry["id"] and done["outcome"] == "still_down"
    logs = requests.get(app.base + "/api/logs?service=slow&limit=5", timeout=5).json()
    assert [e["id"] for e in logs["entries"]] == [entry["id"]]


def test_the_post_answers_at_once_while_the_action_runs_in_the_background(app):
    response = post(app, "/api/recovery", json={"service": "slow"})
    assert response.status_code == 202 and response.elapsed.total_seconds() < 1.0
    assert app.core.recovery.status("slow")["recovering"] is True


@pytest.mark.parametrize(
    ("path", "body", "code", "reason"),
    [
        ("/api/recovery", {"service": "nope"}, 404, None),
        ("/api/recovery", {"service": "plain"}, 409, "no_action"),
        ("/api/recovery", {"service": "slow", "force": "yes"}, 400, None),
        ("/api/recovery", {}, 400, None),
        ("/api/services/nope/maintenance", {"enabled": True}, 404, None),
        ("/api/services/slow/maintenance", {"enabled": "yes"}, 400, None),
        ("/api/services/slow/maintenance", {"enabled": True, "duration_s": -5}, 400, None),
        ("/api/services/slow/maintenance", {"enabled": True, "duration_s": True}, 400, None),
        ("/api/services/nope/reset", {}, 404, None),
        ("/api/recovery/auto", {"enabled": 1}, 400, None),
        ("/api/recovery/auto", {"enabled": False, "service": "nope"}, 404, None),
    ],
)
def test_bad_requests_get_the_json_error_shape(app, path, body, code, reason):
    response = post(app, path, json=body)
    assert response.status_code == code, response.text
    assert set(response.json()) == {"error", "detail"}
    if reason:
        assert response.json()["detail"]["reason"] == reason


def test_an_open_circuit_refuses_manual_recovery_unless_forced_and_reset_closes_it(app):
    app.core.recovery._states["slow"].circuit_open = True
    app.core.recovery._states["slow"].circuit_reason = "test"
    refused = post(app, "/api/recovery", json={"service": "slow"})
    assert refused.status_code == 409 and refused.json()["detail"]["reason"] == "circuit_open"
    forced = post(app, "/api/recovery", json={"service": "slow", "force": True})
    assert forced.status_code == 202 and forced.json()["forced"] is True
    wait_finished(app.core, "slow")
    reset = post(app, "/api/services/slow/reset")
    assert reset.status_code == 200 and reset.json()["needs_attention"] is False
    assert requests.get(app.base + "/api/services/slow/recovery", timeout=5).json()["recovery_attempts"] == 0


def test_maintenance_keeps_downtime_out_of_uptime_and_pauses_auto_recovery(app):
    core = app.core
    on = post(app, "/api/services/slow/maintenance", json={"enabled": True, "duration_s": 3600})
    assert on.status_code == 200 and on.json()["maintenance"] is True and on.json()["maintenance_until"]
    for _ in range(5):  # "slow" is down and restart_failures is 3: without maintenance it would restart
        core.monitor.run_once()
    assert core.recovery_log.recent(service="slow") == []
    statuses = core.store.frame(service="slow")["status"].astype(str).tolist()
    assert statuses == ["maintenance"] * 5
    snapshot = core.monitor.snapshot()
    view = next(s for s in snapshot["services"] if s["name"] == "slow")
    assert view["maintenance"] is True and view["uptime"]["1h"] is None and view["status"] == "down"
    assert snapshot["counts"]["maintenance"] == 1

    off = post(app, "/api/services/slow/maintenance", json={"enabled": False})
    assert off.json()["maintenance"] is False and off.json()["maintenance_until"] is None
    core.monitor.run_once()
    assert core.store.frame(service="slow")["status"].astype(str).tolist()[-1] == "down"


def test_the_auto_switch_turns_automatic_recovery_off_but_manual_still_works(app):
    switched = post(app, "/api/recovery/auto", json={"enabled": False, "service": "slow"}).json()
    assert switched["auto_recovery"] is False
    for _ in range(4):
        app.core.monitor.run_once()
    assert [e["outcome"] for e in app.core.recovery_log.recent(service="slow")] == ["skipped"]
    assert post(app, "/api/recovery", json={"service": "slow"}).status_code == 202
    overview = requests.get(app.base + "/api/recovery", timeout=5).json()
    assert overview["auto"] is True and overview["services"]["slow"]["recovering"] is True
    assert post(app, "/api/recovery/auto", json={"enabled": False}).json()["auto"] is False


def test_an_attempt_cut_off_by_a_kill_is_closed_as_interrupted(tmp_path):
    from ops.core import Core
    from ops.recovery_log import RecoveryLog
    from tests.support import make_settings

    log = RecoveryLog(tmp_path / "recovery_log.jsonl")
    log.append({"id": "abc", "service": "a", "trigger": "auto", "outcome": "running"})
    core = Core(make_settings([{"name": "a", "type": "tcp", "port": 1}]), tmp_path)
    core.start(run_loop=False)
    try:
        entry = core.recovery_log.recent(limit=5)[0]
        assert entry["id"] == "abc" and entry["outcome"] == "interrupted"
    finally:
        core.stop()
