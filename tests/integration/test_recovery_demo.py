"""A killed demo service is restarted by automatic recovery and the log says `recovered`."""

from __future__ import annotations

import json
import os
import signal
import socket

import pytest

from ops.demo_fleet import DemoFleet
from tests.integration.recovery_support import entries, make_core
from tests.support import wait_for


@pytest.fixture
def fleet(request):
    demo = DemoFleet()
    request.addfinalizer(demo.stop)
    demo.start(timeout=10)
    return demo


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_killed_demo_service_is_restarted_automatically_and_recorded_recovered(tmp_path, fleet):
    configs = [c for c in fleet.service_configs() if c["name"] in ("postgres", "bytebot-desktop")]
    assert all(c["recovery"] == {"action": "demo"} for c in configs)
    core = make_core(
        tmp_path, configs, demo=fleet, thresholds={"restart_failures": 2}, recovery={"healthy_reset_s": 600}
    )
    subscription = core.bus.subscribe()
    try:
        core.monitor.start()
        wait_for(lambda: core.monitor.states["postgres"].status == "up", 10, message="postgres up")
        old_pid, port = fleet.pid("postgres"), fleet.port("postgres")
        os.kill(old_pid, signal.SIGKILL)  # a real crash, by PID

        def recovered():
            found = [e for e in entries(core, "postgres") if e["outcome"] == "recovered"]
            return found[0] if found else None

        entry = wait_for(recovered, 20, message="a recovered entry")
        assert entry["trigger"] == "auto" and entry["action"] == "demo" and entry["attempt"] == 1
        assert entry["time_to_healthy_s"] >= 0 and entry["duration_s"] >= entry["action_s"]
        new_pid = fleet.pid("postgres")
        assert new_pid not in (None, old_pid) and fleet.port("postgres") == port and accepts(port)
        assert [e["outcome"] for e in entries(core, "postgres")] == ["recovered"]
        assert entries(core, "bytebot-desktop") == []  # only the failed service was touched

        wait_for(lambda: core.monitor.states["postgres"].status == "up", 10, message="postgres up again")
        view = next(s for s in core.monitor.republish()["services"] if s["name"] == "postgres")
        assert view["recovering"] is False and view["needs_attention"] is False
        assert view["recovery_attempts"] == 1
        events = []
        while (text := subscription.get(timeout=0.01)) not in ("", None):
            events.append(json.loads(text))
        outcomes = [e["entry"]["outcome"] for e in events if e["type"] == "recovery"]
        assert outcomes == ["running", "recovered"]
    finally:
        subscription.close()
        core.stop()
