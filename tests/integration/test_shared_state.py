"""Two real dashboards over one real PostgreSQL share recovery state and notifications (issue 13).

Maintenance set on either is honoured by the leader; attempt counts outlive a killed leader; a
follower never runs an action, from the API or from the page; one incident is announced once.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
import requests

from ops.history.postgres_recovery_log import open_pool
from ops.history.postgres_recovery_state import PostgresRecoveryState
from tests.integration.processes import AppProcess
from tests.notify_receivers import WebhookReceiver
from tests.support import Behaviour, wait_for

INTERVAL_S = 1.0


def get(app: AppProcess, path: str) -> dict:
    response = requests.get(app.base + path, timeout=5)
    response.raise_for_status()
    return response.json()


def post(app: AppProcess, path: str, body: dict) -> requests.Response:
    return requests.post(app.base + path, json=body, timeout=10)


def role(app: AppProcess) -> str:
    return get(app, "/api/loop-status")["role"]


def runs(runs_file) -> list[str]:
    """Which dashboard ran the recovery command, one line per run."""
    return runs_file.read_text().split() if runs_file.exists() else []


@pytest.fixture
def fleet(tmp_path, pg_cluster, http_server_factory):
    """start(recovery_policy, service_recovery, notifications) -> (leader, follower, api server, runs file)."""
    cluster = pg_cluster()
    apps: list[AppProcess] = []
    runs_file = tmp_path / "runs"
    hook = WebhookReceiver()

    def start(policy: dict, recovery: dict | None = None, notifications: dict | None = None):
        api = http_server_factory()
        command = ["sh", "-c", f'echo "$MC_WHO" >> {runs_file}; exit 1']  # fails at once: counts as failed
        service = {"name": "api", "url": api.url("/"), "timeout_s": 1.0, "failure_threshold": 1}
        if recovery is not None:
            service["recovery"] = {"action": "command", "command": command, "timeout_s": 10, **recovery}
        config = {
            "interval_s": INTERVAL_S,
            "services": [service],
            "thresholds": {"restart_failures": 1, "cpu_max": 100, "mem_max": 100},
            "recovery": {"verify_timeout_s": 1, "verify_interval_s": 0.2, **policy},
            "storage": {"url": cluster.dsn()},
        }
        if notifications is not None:
            config["notifications"] = notifications
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        for name in ("a", "b"):
            env = {"MC_WHO": name, "MC_HOOK_URL": hook.url()}
            apps.append(AppProcess("--config", str(path), "--data-dir", str(tmp_path / name), env=env))
        for app in apps:
            app.wait_ports(timeout=60)
        wait_for(lambda: sorted(map(role, apps)) == ["follower", "leader"], timeout=20, message="one leader")
        leader, follower = apps if role(apps[0]) == "leader" else apps[::-1]
        leader.name, follower.name = ("a", "b") if leader is apps[0] else ("b", "a")
        return leader, follower, api, runs_file

    start.hook = hook
    try:
        yield start
    finally:
        for app in apps:
            app.kill()
        hook.close()


def maintenance(app: AppProcess) -> bool:
    return get(app, "/api/services/api/recovery")["maintenance"]


def view_in_maintenance(app: AppProcess) -> bool:
    return next(s for s in get(app, "/api/health")["services"] if s["name"] == "api").get("maintenance") is True


def test_a_maintenance_window_set_on_the_follower_is_honoured_by_the_leader(fleet):
    leader, follower, api, runs_file = fleet({"enabled": True, "cooldown_s": 0}, {"auto": True})
    answer = post(follower, "/api/services/api/maintenance", {"enabled": True, "duration_s": 600})
    assert answer.status_code == 200, answer.text
    assert answer.json()["maintenance"] is True
    wait_for(lambda: maintenance(leader), timeout=5, message="the leader to read the window")
    wait_for(lambda: view_in_maintenance(leader) and view_in_maintenance(follower), timeout=5, message="both pages")

    api.routes["/"] = Behaviour(status=503)  # down during the window: nothing may run
    wait_for(lambda: get(leader, "/api/health")["services"][0]["status"] == "down", timeout=5, message="down")
    time.sleep(4 * INTERVAL_S)
    assert runs(runs_file) == []
    assert maintenance(leader) and maintenance(follower)

    # The window ends from the follower too: the leader (and only the leader) recovers now.
    assert post(follower, "/api/services/api/maintenance", {"enabled": False}).status_code == 200
    wait_for(lambda: runs(runs_file), timeout=10, message="the leader's recovery after the window")
    assert set(runs(runs_file)) == {leader.name}
    assert not maintenance(follower)


def test_attempt_counts_survive_a_killed_leader_and_the_cap_still_holds(fleet):
    policy = {"enabled": True, "cooldown_s": 3, "backoff_max_s": 3, "max_attempts": 3, "window_s": 3600}
    leader, follower, api, runs_file = fleet(policy, {"auto": True})
    api.routes["/"] = Behaviour(status=503)

    def failed(app: AppProcess) -> int:
        return get(app, "/api/services/api/recovery")["failed_attempts"]

    wait_for(lambda: failed(leader) >= 2, timeout=20, interval=0.05, message="two failed attempts")
    assert len(runs(runs_file)) == 2
    wait_for(lambda: failed(follower) == 2, timeout=5, message="the follower to see the shared count")
    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(5)
    wait_for(lambda: role(follower) == "leader", timeout=5, message="the follower to take over")

    status = wait_for(
        lambda: (s := get(follower, "/api/services/api/recovery"))["needs_attention"] and s,
        timeout=15,
        message="the third attempt to open the circuit",
    )
    assert status["failed_attempts"] == 3
    time.sleep(5)  # past the cooldown: a leader with fresh counters would try again here
    assert runs(runs_file) == [leader.name, leader.name, follower.name]


def dash_call(app: AppProcess, input_id: str, prop: str, value, state: dict) -> dict:
    """Fire the page's callback on `input_id`.`prop` as the browser would."""
    callbacks = get(app, "/_dash-dependencies")
    callback = next(c for c in callbacks if any(i["id"] == input_id for i in c["inputs"]))

    def parse(text: str) -> dict:
        return dict(zip(("id", "property"), text.split(".", 1), strict=True))

    many = callback["output"].startswith("..")
    outputs = [parse(p) for p in callback["output"][2:-2].split("...")] if many else parse(callback["output"])
    body = {
        "output": callback["output"],
        "outputs": outputs,
        "inputs": [{"id": input_id, "property": prop, "value": value}],
        "state": [{"id": s["id"], "property": s["property"], "value": state.get(s["id"])} for s in callback["state"]],
        "changedPropIds": [f"{input_id}.{prop}"],
    }
    answer = requests.post(app.base + "/_dash-update-component", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_followers_page_and_api_never_run_an_action(fleet):
    from layouts import ids

    leader, follower, api, runs_file = fleet({"enabled": False}, {"auto": False})
    api.routes["/"] = Behaviour(status=503)
    leader_id = get(leader, "/api/loop-status")["leader"]["id"]
    wait_for(lambda: get(follower, "/api/loop-status")["leader"], timeout=5, message="the follower to know the leader")

    answer = post(follower, "/api/recovery", {"service": "api", "force": True})
    assert answer.status_code == 409 and answer.json()["detail"]["leader"]["id"] == leader_id
    page = dash_call(follower, ids.RECOVER_CONFIRM, "n_clicks", 1, {ids.SELECTED: "api", ids.RECOVER_FORCE: True})
    assert "Recovery not started" in json.dumps(page) and leader_id in json.dumps(page)
    # State changes work from the follower (the shared state), and none of them runs the action.
    for path, body in (
        ("/api/services/api/reset", {}),
        ("/api/services/api/maintenance", {"enabled": True}),
        ("/api/services/api/maintenance", {"enabled": False}),
    ):
        assert post(follower, path, body).status_code == 200, path
    page = dash_call(follower, ids.MAINT_SWITCH, "n_clicks", 1, {ids.SELECTED: "api", ids.MAINT_DURATION: None})
    assert "in maintenance" in json.dumps(page)
    wait_for(lambda: maintenance(leader), timeout=5, message="the leader to see the page's window")
    dash_call(follower, ids.MAINT_SWITCH, "n_clicks", 2, {ids.SELECTED: "api", ids.MAINT_DURATION: None})
    wait_for(lambda: not maintenance(leader), timeout=5, message="the window to end")
    time.sleep(2 * INTERVAL_S)
    assert runs(runs_file) == []
    # Automatic recovery switched on at the follower: the leader, and only the leader, acts on it.
    assert post(follower, "/api/recovery/auto", {"enabled": True}).status_code == 200
    assert post(follower, "/api/recovery/auto", {"enabled": True, "service": "api"}).status_code == 200
    assert get(follower, "/api/recovery")["auto"] is True
    wait_for(lambda: runs(runs_file), timeout=10, message="the leader's automatic attempt")
    time.sleep(INTERVAL_S)
    assert set(runs(runs_file)) == {leader.name}


def test_one_incident_is_announced_once_across_a_leader_kill(fleet):
    notifications = {
        "targets": {"hook": {"url_env": "MC_HOOK_URL"}},
        "routes": [{"targets": ["hook"]}],
        "reminders": {"after_s": None},
        "delivery": {"backoff_s": 0.2, "timeout_s": 2},
    }
    leader, follower, api, _ = fleet({"enabled": False}, None, notifications)
    hook = fleet.hook

    def titles(word: str) -> list[str]:
        return [t for t in hook.titles() if "api" in t and word in t]

    api.routes["/"] = Behaviour(status=503)
    wait_for(lambda: titles("DOWN"), timeout=15, message="the down notification")
    # Every dashboard's notifications page shows the same deliveries (the shared log).
    wait_for(
        lambda: any(e["event"] == "down" for e in get(follower, "/api/notifications")["entries"]),
        timeout=5,
        message="the follower to show the leader's delivery",
    )
    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(5)
    wait_for(lambda: role(follower) == "leader", timeout=5, message="the follower to take over")
    wait_for(lambda: get(follower, "/api/loop-status")["sweeps"] >= 3, timeout=10, message="the new leader's sweeps")
    assert len(titles("DOWN")) == 1  # the new leader adopted the incident: not announced again

    api.routes["/"] = Behaviour()
    wait_for(lambda: titles("RECOVERED"), timeout=15, message="the recovered notification")
    time.sleep(2 * INTERVAL_S)
    assert len(titles("DOWN")) == 1 and len(titles("RECOVERED")) == 1


def test_a_reset_keeps_the_attempt_in_flight_and_versions_grow_per_row(pg_cluster):
    pool = open_pool(pg_cluster().dsn())
    state = PostgresRecoveryState(pool, who="test")
    try:
        counters = {"running_id": "r1", "running_until": 5.0, "attempts": [1.0], "backoff_level": 2}
        assert state.write_counters("api", counters, resets=0)
        [(_, first, _, _)] = state.rows()
        assert state.set_settings("api", {"maintenance": True}, reset=True)
        [(service, second, settings, kept)] = state.rows()
        # The reset forgets attempts and backoff, not the action that may still be running.
        assert service == "api" and second > first and settings["resets"] == 1 and settings["maintenance"] is True
        assert kept == {"running_id": "r1", "running_until": 5.0}
        assert state.write_counters("api", {}, resets=0) is False  # made before the reset was seen: refused
        assert state.write_counters("api", {}, resets=1) and state.rows()[0][1] > second
    finally:
        pool.close()
