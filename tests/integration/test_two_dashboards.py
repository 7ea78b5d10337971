"""Two real dashboard processes over one real PostgreSQL: one probes and recovers, the other follows."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import requests
import websocket

from tests.integration.processes import AppProcess
from tests.support import wait_for

INTERVAL_S = 1.0
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


@pytest.fixture
def dashboards(tmp_path, pg_cluster, http_server_factory):
    """Start two dashboards over one cluster; returns (apps, runs file). Kills both at the end."""
    cluster = pg_cluster()
    runs_file = tmp_path / "runs"
    config = write_config(tmp_path, cluster.dsn(), http_server_factory, runs_file)
    apps = []
    for name in ("a", "b"):
        apps.append(AppProcess("--config", config, "--data-dir", str(tmp_path / name)))
    try:
        for app in apps:
            app.wait_ports(timeout=60)
        yield apps, runs_file
    finally:
        for app in apps:
            app.kill()
        for line in runs_file.read_text().split() if runs_file.exists() else []:
            try:
                os.killpg(int(line), signal.SIGKILL)  # the recovery command outlives its killed dashboard
            except ProcessLookupError:
                pass


def leader_and_follower(apps: list[AppProcess]) -> tuple[AppProcess, AppProcess]:
    wait_for(lambda: sorted(roles(*apps)) == ["follower", "leader"], timeout=20, interval=0.1, message="one leader")
    return (apps[0], apps[1]) if roles(apps[0])[0] == "leader" else (apps[1], apps[0])


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


def test_the_follower_takes_over_a_killed_leader_and_never_reruns_its_recovery(dashboards):
    apps, runs_file = dashboards
    leader, follower = leader_and_follower(apps)
    started = requests.post(leader.base + "/api/recovery", json={"service": "api"}, timeout=5)
    assert started.status_code == 202, started.text
    entry_id = started.json()["id"]
    wait_for(lambda: runs_file.exists() and runs_file.read_text().strip(), timeout=10, message="the command to run")
    sweeps_before = get(follower, "/api/loop-status")["sweeps"]
    assert sweeps_before == 0

    killed_at = time.monotonic()
    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(5)
    wait_for(lambda: roles(follower) == ["leader"], timeout=2 * INTERVAL_S, interval=0.02, message="a new leader")
    leads_after = time.monotonic() - killed_at
    wait_for(
        lambda: get(follower, "/api/loop-status")["sweeps"] > 0, timeout=2 * INTERVAL_S, interval=0.02, message="probes"
    )
    probes_after = time.monotonic() - killed_at
    print(f"\ntakeover after SIGKILL: leads in {leads_after * 1000:.0f} ms, probed in {probes_after * 1000:.0f} ms")

    def outcome() -> str | None:
        entries = get(follower, "/api/logs?service=api")["entries"]
        return next((e["outcome"] for e in entries if e["id"] == entry_id), None)

    wait_for(lambda: outcome() == "interrupted", timeout=5, message="the old attempt marked interrupted")
    time.sleep(3 * INTERVAL_S)  # several sweeps of the new leader: it must not run the command again
    assert len(runs_file.read_text().split()) == 1
    assert outcome() == "interrupted"
