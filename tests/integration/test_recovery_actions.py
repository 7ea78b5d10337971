"""The command and http actions with real processes and a real loopback webhook."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from tests.integration.recovery_support import make_core, marker_command, wait_finished
from tests.support import free_port, wait_for

# Starts a grandchild, writes both PIDs, ignores SIGTERM and hangs: only killing the group ends it.
HANGING = (
    "import os, signal, subprocess, sys, time; "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "open(sys.argv[1], 'w').write(str(os.getpid()) + ' ' + str(child.pid)); "
    "time.sleep(60)"
)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def command_service(argv: list[str], timeout_s: float = 10) -> dict:
    recovery = {"action": "command", "command": argv, "timeout_s": timeout_s}
    return {"name": "svc", "type": "tcp", "port": free_port(), "timeout_s": 0.5, "recovery": recovery}


@pytest.fixture
def core_for(tmp_path):
    cores = []

    def make(service: dict):
        cores.append(make_core(tmp_path, [service], recovery={"verify_timeout_s": 0.2}))
        return cores[-1]

    yield make
    for core in cores:
        core.stop()


def test_a_hanging_action_is_killed_with_its_whole_group_at_the_timeout(tmp_path, core_for):
    pids_file = tmp_path / "pids"
    core = core_for(command_service([sys.executable, "-c", HANGING, str(pids_file)], timeout_s=1.0))
    started = time.monotonic()
    core.recovery.request_manual("svc")
    leader, grandchild = map(int, wait_for(lambda: pids_file.exists() and pids_file.read_text(), 10).split())
    entry = wait_finished(core, "svc", timeout=15)
    assert entry["outcome"] == "timed_out" and "timed out after 1s" in entry["error"]
    assert 1.0 <= entry["duration_s"] < 1.0 + 2.0 + 2.0  # timeout + SIGTERM grace + slack
    assert time.monotonic() - started < 10
    assert wait_for(lambda: gone(leader) and gone(grandchild), 5, message="the whole group to be killed")


def test_a_failing_action_is_recorded_with_its_exit_code_and_output(tmp_path, core_for):
    code = "import sys; print('starting'); print('compose: no such service', file=sys.stderr); sys.exit(3)"
    core = core_for(command_service([sys.executable, "-c", code]))
    entry = core.recovery.request_manual("svc")
    assert entry["outcome"] == "running" and entry["trigger"] == "manual"
    done = wait_finished(core, "svc")
    assert done["id"] == entry["id"] and done["outcome"] == "action_failed" and done["exit_code"] == 3
    assert "starting" in done["output_tail"] and "compose: no such service" in done["output_tail"]
    assert "verified" not in done and "time_to_healthy_s" not in done


def test_placeholders_reach_the_program_as_single_arguments_without_a_shell(tmp_path, core_for):
    marker = tmp_path / "argv.txt"
    core = core_for(command_service(marker_command(marker)))
    core.recovery.request_manual("svc")
    done = wait_finished(core, "svc")
    assert done["outcome"] == "still_down" and done["exit_code"] == 0  # ran fine; nothing listens
    assert marker.read_text() == "0 svc\n"


def test_a_missing_program_is_an_action_failure_not_a_crash(tmp_path, core_for):
    core = core_for(command_service([str(tmp_path / "no-such-script.sh"), "{service}"]))
    core.recovery.request_manual("svc")
    done = wait_finished(core, "svc")
    assert done["outcome"] == "action_failed" and "cannot start" in done["error"]


class Webhook:
    """A loopback webhook that records the JSON bodies it gets and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers["Content-Length"])
                owner.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.send_header("Content-Length", "7")
                self.end_headers()
                self.wfile.write(b"queued\n")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/restart"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(("status", "outcome"), [(202, "still_down"), (500, "action_failed")])
def test_the_http_action_posts_json_naming_the_service(core_for, status, outcome):
    hook = Webhook(status)
    try:
        service = command_service(["unused"])
        service["recovery"] = {"action": "http", "url": hook.url, "timeout_s": 5}
        core = core_for(service)
        entry = core.recovery.request_manual("svc")
        done = wait_finished(core, "svc")
        assert done["outcome"] == outcome and done["http_status"] == status
        assert hook.bodies == [
            {"service": "svc", "target": service_target(core), "trigger": "manual", "attempt": 1, "id": entry["id"]}
        ]
    finally:
        hook.close()


def service_target(core) -> str:
    return core.settings.services[0].target
