"""Two real dashboard processes over one real PostgreSQL: one probes and recovers, the other follows."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import pytest
import requests
import websocket

from tests.integration.processes import AppProcess
from tests.support import Behaviour, wait_for

# A take-over here takes 0.17-0.24 s (0.47 s at load ~10 with a 1 s interval; 1.2 s with 20
# services in bench/history_scale.py at load 9): the lock is tried every interval/4, then state is
# rebuilt and the services swept. 2 s leaves the 2-interval budget (4 s) room on a loaded CI box, and
# the tests wait on events, so they stay short.
INTERVAL_S = 2.0
TAKEOVER_BUDGET_S = 2 * INTERVAL_S  # issue 13: a new leader probing within two intervals of the kill
RECOVERY_SLEEP_S = 30  # far longer than the test: the attempt is cut off by the kill, never finished


def get(app: AppProcess, path: str) -> dict:
    response = requests.get(app.base + path, timeout=5)
    response.raise_for_status()
    return response.json()


def roles(*apps: AppProcess) -> list[str]:
    return [get(app, "/api/loop-status")["role"] for app in apps]


def write_config(tmp_path, dsn: str, http_server_factory, runs_file) -> str:
    web, api = http_server_factory(), http_server_factory()
    # The recovery command says it ran (its pid, one line per run), then takes far longer than the test.
    command = ["sh", "-c", f"echo $$ >> {runs_file}; exec sleep {RECOVERY_SLEEP_S}"]
    config = {
        "interval_s": INTERVAL_S,
        "services": [
            {"name": "web", "url": web.url("/"), "timeout_s": 1.0},
            {
                "name": "api",
                "url": api.url("/"),
                "timeout_s": 1.0,
                "recovery": {"action": "command", "command": command, "timeout_s": 120, "auto": False},
            },
        ],
        "recovery": {"enabled": False},  # manual only: nothing may run the command a second time
        "storage": {"url": dsn},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


@contextlib.contextmanager
def two_dashboards(config: str, tmp_path, runs_file):
    """Dashboards "a" and "b" on one config; at the end both are killed, and so is every recovery command
    that wrote its pid (its process group) first on a line of `runs_file`: it outlives its dashboard."""
    apps = [AppProcess("--config", config, "--data-dir", str(tmp_path / name)) for name in ("a", "b")]
    try:
        for app in apps:
            app.wait_ports(timeout=60)
        yield apps
    finally:
        for app in apps:
            app.kill()
        for line in runs_file.read_text().splitlines() if runs_file.exists() else []:
            try:
                os.killpg(int(line.split()[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def dashboards(tmp_path, pg_cluster, http_server_factory):
    """Start two dashboards over one cluster; returns (apps, runs file). Kills both at the end."""
    cluster = pg_cluster()
    runs_file = tmp_path / "runs"
    config = write_config(tmp_path, cluster.dsn(), http_server_factory, runs_file)
    with two_dashboards(config, tmp_path, runs_file) as apps:
        yield apps, runs_file


def leader_and_follower(apps: list[AppProcess]) -> tuple[AppProcess, AppProcess]:
    wait_for(lambda: sorted(roles(*apps)) == ["follower", "leader"], timeout=20, interval=0.1, message="one leader")
    return (apps[0], apps[1]) if roles(apps[0])[0] == "leader" else (apps[1], apps[0])


def takeover(follower: AppProcess, killed_at: float, budget_s: float) -> tuple[float, float]:
    """Seconds from the kill until `follower` said it leads, and until it had finished a sweep: one
    deadline, `budget_s` from the kill, for both (leading and then probing within it)."""
    deadline, leads = killed_at + budget_s, None
    while True:
        status = get(follower, "/api/loop-status")
        seen = time.monotonic() - killed_at  # an upper bound: the answer was read after it was true
        if leads is None and status["role"] == "leader":
            leads = seen
        if status["role"] == "leader" and status["sweeps"] > 0:
            assert seen <= budget_s, f"probing {seen:.2f} s after the kill, over the {budget_s:g} s budget"
            return leads, seen
        assert time.monotonic() < deadline, f"no sweep by a new leader {budget_s:g} s after the kill: {status}"
        time.sleep(0.02)


def test_exactly_one_probes_and_the_follower_shows_its_sweeps(dashboards):
    apps, _ = dashboards
    leader, follower = leader_and_follower(apps)
    wait_for(lambda: get(leader, "/api/loop-status")["sweeps"] >= 2, timeout=15, message="the leader's sweeps")
    status = get(follower, "/api/loop-status")
    assert status["sweeps"] == 0 and status["running"] is False  # it never probed
    assert status["leader"]["id"] == get(leader, "/api/loop-status")["leader"]["id"]
    assert status["leader"]["is_me"] is False and get(leader, "/api/loop-status")["leader"]["is_me"] is True
    # The shared history grows on the follower from the leader's sweeps.
    before = get(follower, "/api/history?limit=1000")["count"]
    wait_for(lambda: get(follower, "/api/history?limit=1000")["count"] >= before + 2, timeout=10, message="history")
    # A follower's WebSocket client gets the leader's live results and sweeps.
    ws = websocket.create_connection(f"ws://127.0.0.1:{follower.ws_port}/ws", timeout=5)
    try:
        assert json.loads(ws.recv())["type"] == "snapshot"
        seen: set[str] = set()
        deadline = time.monotonic() + 10
        while not {"result", "sweep"} <= seen and time.monotonic() < deadline:
            message = json.loads(ws.recv())
            seen.add(message["type"])
            if message["type"] == "result":
                assert message["service"]["name"] in ("web", "api")
        assert {"result", "sweep"} <= seen
    finally:
        ws.close()
    # Recovery changes go to the leader: the follower answers 409 and names it.
    answer = requests.post(follower.base + "/api/recovery", json={"service": "api"}, timeout=5)
    assert answer.status_code == 409 and answer.json()["detail"]["reason"] == "not_leader"
    assert answer.json()["detail"]["leader"]["id"] == status["leader"]["id"]
    assert status["stale_leader"] is None  # the leader beats its heart


def test_a_follower_refuses_a_health_check_and_names_the_leader(dashboards):
    apps, _ = dashboards
    leader, follower = leader_and_follower(apps)
    leader_id = get(leader, "/api/loop-status")["leader"]["id"]
    wait_for(lambda: get(follower, "/api/loop-status")["leader"], timeout=10, message="the follower to know the leader")
    answer = requests.post(follower.base + "/api/health-check", timeout=5)
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["detail"]["reason"] == "not_leader" and body["detail"]["leader"]["id"] == leader_id
    assert leader_id in body["error"]
    assert get(follower, "/api/loop-status")["sweeps"] == 0  # and it ran none
    assert requests.post(leader.base + "/api/health-check", timeout=15).status_code == 200


ACTION_TIMEOUT_S, VERIFY_TIMEOUT_S, ACTION_GRACE_S = 4, 2, 5  # ACTION_GRACE_S: ops/recovery/worker.py
DEADLINE_S = ACTION_TIMEOUT_S + ACTION_GRACE_S + VERIFY_TIMEOUT_S  # an attempt ends by then, wherever it runs
ACTION_SLEEP_S = 7  # outlives the killed leader (its own process group), ends before the deadline


@pytest.fixture
def recovering(tmp_path, pg_cluster, http_server_factory):
    """Two dashboards recovering a service that is down; returns (apps, runs file). Kills all at the end."""
    cluster, runs_file = pg_cluster(), tmp_path / "runs"
    api = http_server_factory()
    api.routes["/"] = Behaviour(status=503)
    # Each run writes its pid (= its process group) and start time, then sleeps past the leader's kill.
    command = ["sh", "-c", f"echo $$ $(date +%s.%N) >> {runs_file}; exec sleep {ACTION_SLEEP_S}"]
    recovery = {"action": "command", "command": command, "timeout_s": ACTION_TIMEOUT_S, "auto": True}
    service = {"name": "api", "url": api.url("/"), "timeout_s": 1.0, "failure_threshold": 1, "recovery": recovery}
    config = {
        "interval_s": INTERVAL_S,
        "services": [service],
        "thresholds": {"restart_failures": 1, "cpu_max": 100, "mem_max": 100},
        "recovery": {"enabled": True, "cooldown_s": 0, "max_attempts": 5, "window_s": 3600,
                     "verify_timeout_s": VERIFY_TIMEOUT_S, "verify_interval_s": 0.5},
        "storage": {"url": cluster.dsn()},
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with two_dashboards(str(path), tmp_path, runs_file) as apps:
        yield apps, runs_file


def run_starts(runs_file) -> list[float]:
    """When each run of the recovery command started (wall time), one per run."""
    lines = runs_file.read_text().splitlines() if runs_file.exists() else []
    return [float(line.split()[1]) for line in lines]


def test_a_new_leader_waits_out_the_killed_leaders_attempt_and_never_reruns_it(recovering):
    apps, runs_file = recovering
    leader, follower = leader_and_follower(apps)
    wait_for(lambda: run_starts(runs_file), timeout=20, interval=0.05, message="the leader's automatic recovery")
    first_start = run_starts(runs_file)[0]
    entry_id = get(leader, "/api/services/api/recovery")["current_id"]
    assert entry_id is not None
    # The follower shows the leader's attempt: recovering, its id, one running.
    status = wait_for(lambda: (s := get(follower, "/api/services/api/recovery"))["recovering"] and s, timeout=5)
    assert status["current_id"] == entry_id and get(follower, "/api/recovery")["running"] == 1

    killed_at = time.monotonic()
    leader.proc.send_signal(signal.SIGKILL)
    leads_after, probes_after = takeover(follower, killed_at, TAKEOVER_BUDGET_S)
    print(f"\ntakeover after SIGKILL: leads in {leads_after * 1000:.0f} ms, probed in {probes_after * 1000:.0f} ms")
    leader.proc.wait(5)

    def old_entry() -> dict:
        return next(e for e in get(follower, "/api/logs?service=api")["entries"] if e["id"] == entry_id)

    # Until the old attempt's deadline the service stays busy: its action may still run.
    while time.time() < first_start + DEADLINE_S - 1.5:
        assert len(run_starts(runs_file)) == 1, "a second recovery started while the first could still run"
        status = get(follower, "/api/services/api/recovery")
        assert status["recovering"] and status["current_id"] == entry_id
        assert old_entry()["outcome"] == "running"
        time.sleep(0.2)
    # Then it is interrupted (never run again) and the next incident's attempt is the second in the window.
    wait_for(lambda: old_entry()["outcome"] == "interrupted", timeout=5, message="the old attempt interrupted")
    wait_for(lambda: len(run_starts(runs_file)) == 2, timeout=10, message="the new leader's own attempt")
    assert run_starts(runs_file)[1] >= first_start + DEADLINE_S - 0.5
    status = get(follower, "/api/services/api/recovery")
    assert status["recovery_attempts"] == 2 and status["current_id"] not in (None, entry_id)
    newest = get(follower, "/api/logs?service=api")["entries"][0]
    assert newest["id"] == status["current_id"] and newest["attempt"] == 2
