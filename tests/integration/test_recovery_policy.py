"""The policy against real loopback services: a dead service opens the circuit, a flapping one is left alone."""

from __future__ import annotations

import json

from tests.integration.recovery_support import ChildServer, entries, make_core, marker_command, runs
from tests.support import free_port, wait_for


def test_a_service_that_stays_down_opens_the_circuit_after_max_attempts_and_gets_no_more(tmp_path):
    marker = tmp_path / "restarts.txt"
    service = {"name": "db", "type": "tcp", "port": free_port(), "timeout_s": 0.5}
    service["recovery"] = {"action": "command", "command": marker_command(marker), "restart_failures": 2}
    core = make_core(tmp_path, [service], recovery={"max_attempts": 2, "verify_timeout_s": 0.2})
    subscription = core.bus.subscribe()
    try:
        core.monitor.start()
        wait_for(lambda: core.recovery.status("db")["needs_attention"], 20, message="the circuit to open")
        sweeps = core.monitor.loop_status()["sweeps"]
        # Ten more failed checks: an open circuit means no more restarts, however long it stays down.
        wait_for(lambda: core.monitor.loop_status()["sweeps"] >= sweeps + 10, 20, message="ten more sweeps")
        assert runs(marker) == 2
        attempts = [e for e in entries(core, "db") if e["outcome"] != "skipped"]
        assert [(e["attempt"], e["outcome"]) for e in attempts] == [(1, "still_down"), (2, "still_down")]
        assert attempts[-1]["circuit_open"] is True
        assert [e for e in entries(core, "db") if e["outcome"] == "skipped"] == []  # the opening is not repeated

        view = next(s for s in core.monitor.snapshot()["services"] if s["name"] == "db")
        assert view["needs_attention"] is True and view["recovery_attempts"] == 2
        pushed = [json.loads(t) for t in iter(lambda: subscription.get(timeout=0.01), "") if t]
        # Pushed as news: in a sweep message's changed views (or a result's view), never only on request.
        views = [v for e in pushed for v in (e.get("services") if e["type"] == "sweep" else [e.get("service")]) if v]
        assert any(v["name"] == "db" and v["needs_attention"] for v in views)

        assert core.recovery.reset("db")["needs_attention"] is False  # the operator's reset
        wait_for(lambda: runs(marker) == 3, 10, message="automatic recovery to resume after the reset")
    finally:
        subscription.close()
        core.stop()


def test_a_flapping_service_failing_one_check_in_three_is_never_restarted(tmp_path):
    marker = tmp_path / "restarts.txt"
    server = ChildServer(fail_every=3)
    service = {"name": "flappy", "url": f"http://127.0.0.1:{server.port}/", "timeout_s": 2}
    service["recovery"] = {"action": "command", "command": marker_command(marker), "restart_failures": 2}
    core = make_core(tmp_path, [service])
    try:
        for _ in range(15):
            core.monitor.run_once()
        assert core.monitor.failures == 5  # it really did fail, one check in three
        assert runs(marker) == 0 and entries(core, "flappy") == []
        assert core.recovery.status("flappy")["recovery_attempts"] == 0
    finally:
        core.stop()
        server.close()
