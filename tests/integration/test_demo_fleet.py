"""The demo fleet runs real loopback services in child processes that die with their parent."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from ops.demo_fleet import DEMO_SERVICES, DemoFleet, read_listening_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 10.0
NAMES = {"bytebot-desktop", "bytebot-agent", "bytebot-ui", "postgres", "llm-proxy"}

PARENT_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from ops.demo_fleet import DEMO_SERVICES, DemoFleet
    fleet = DemoFleet()
    fleet.start()
    print(" ".join(str(fleet.pid(s.name)) for s in DEMO_SERVICES), flush=True)
    if sys.argv[1] == "exit":
        os._exit(0)  # skips atexit: only the children's own parent-death checks remain
    time.sleep(60)  # until the test SIGKILLs us
    """
)


def wait_for(predicate: Callable[[], bool], timeout: float = DEADLINE_S) -> bool:
    """Poll predicate until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def pid_alive(pid: int) -> bool:
    """Say whether pid is a live process; an unreaped zombie counts as gone."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_if_demo_service(pid: int) -> None:
    """SIGKILL pid only if it is still one of our demo services (guards PID reuse)."""
    try:
        proc = psutil.Process(pid)
        if "ops.demo_service" in " ".join(proc.cmdline()):
            proc.kill()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass


def http(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    """Make one request to the loopback service; return status and body."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get_ok(port: int, path: str) -> bytes:
    """GET until a 200 arrives; some demo services fail a few percent on purpose."""
    for _ in range(20):
        status, body = http(port, path)
        if status == 200:
            return body
        assert status == 503, f"unexpected status {status} from {path}"
    pytest.fail(f"no 200 from port {port}{path} in 20 tries")


def tcp_accepts(port: int) -> bool:
    """Say whether a TCP connect to the port succeeds."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except ConnectionRefusedError:
        return False


def assert_answers(config: dict) -> None:
    """Probe one service the way the monitor would, per its config dict."""
    if config["type"] == "tcp":
        assert tcp_accepts(config["port"]), config
        return
    body = get_ok(config["port"], config["health_endpoint"])
    assert config["expect_body"].encode() in body, (config, body)


def read_line(proc: subprocess.Popen[bytes], timeout: float = DEADLINE_S) -> str:
    """Read one stdout line from proc without blocking past the deadline."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout), "no output before the deadline"
    return proc.stdout.readline().decode()


@pytest.fixture
def fleet(request: pytest.FixtureRequest) -> DemoFleet:
    """A started demo fleet, stopped at teardown whatever the test did."""
    demo = DemoFleet()
    request.addfinalizer(demo.stop)
    demo.start(timeout=DEADLINE_S)
    return demo


def test_fleet_starts_five_services_that_answer_their_probes(fleet: DemoFleet) -> None:
    configs = fleet.service_configs()
    assert {c["name"] for c in configs} == NAMES
    for config in configs:
        assert config["port"] == fleet.port(config["name"])
        assert config["tags"] == ["demo"]
        assert fleet.is_running(config["name"])
        assert_answers(config)
    pids = {fleet.pid(name) for name in NAMES}
    assert len(pids) == 5 and os.getpid() not in pids


def test_http_service_404s_unknown_paths_and_answers_head(fleet: DemoFleet) -> None:
    port = fleet.port("bytebot-desktop")
    assert http(port, "/nope")[0] == 404
    assert http(port, "/novnc/vnc.html", method="HEAD") == (200, b"")
    assert b'"tasks"' in get_ok(fleet.port("bytebot-agent"), "/tasks")
    assert b"ok" in get_ok(fleet.port("bytebot-agent"), "/")


def test_ui_is_slow_enough_to_read_as_degraded(fleet: DemoFleet) -> None:
    ui = next(c for c in fleet.service_configs() if c["name"] == "bytebot-ui")
    started = time.monotonic()
    get_ok(ui["port"], ui["health_endpoint"])
    assert (time.monotonic() - started) * 1000 > ui["degraded_latency_ms"]


def test_stop_service_closes_port_and_start_service_reopens_it(
    fleet: DemoFleet,
) -> None:
    port, old_pid = fleet.port("bytebot-agent"), fleet.pid("bytebot-agent")
    assert old_pid is not None
    fleet.stop_service("bytebot-agent")
    assert not fleet.is_running("bytebot-agent") and fleet.pid("bytebot-agent") is None
    assert not pid_alive(old_pid)
    assert not tcp_accepts(port)
    for config in fleet.service_configs():
        if config["name"] != "bytebot-agent":
            assert_answers(config)

    fleet.start_service("bytebot-agent")
    new_pid = fleet.pid("bytebot-agent")
    assert fleet.port("bytebot-agent") == port
    assert new_pid is not None and new_pid != old_pid
    assert b"tasks" in get_ok(port, "/tasks?limit=1")
    fleet.start_service("bytebot-agent")  # already running: no-op
    assert fleet.pid("bytebot-agent") == new_pid


def test_restart_service_keeps_the_port_and_replaces_the_process(
    fleet: DemoFleet,
) -> None:
    port, old_pid = fleet.port("postgres"), fleet.pid("postgres")
    fleet.restart_service("postgres")
    assert fleet.port("postgres") == port and fleet.pid("postgres") != old_pid
    assert tcp_accepts(port)


def test_stop_leaves_no_child_alive(fleet: DemoFleet) -> None:
    pids = [fleet.pid(name) for name in NAMES]
    assert all(pid is not None and pid_alive(pid) for pid in pids)
    fleet.stop()
    assert not any(pid_alive(pid) for pid in pids if pid is not None)
    assert not any(fleet.is_running(name) for name in NAMES)
    fleet.stop()  # idempotent


def test_children_outlive_the_thread_that_started_them(
    request: pytest.FixtureRequest,
) -> None:
    demo = DemoFleet()
    request.addfinalizer(demo.stop)
    starter = threading.Thread(target=demo.start)
    starter.start()
    starter.join(DEADLINE_S)
    assert all(demo.is_running(name) for name in NAMES)
    # PR_SET_PDEATHSIG fires when the forking *thread* exits; it would show within a second.
    assert not wait_for(lambda: not all(demo.is_running(n) for n in NAMES), timeout=1.0)
    assert tcp_accepts(demo.port("postgres"))


@pytest.mark.parametrize("death", ["os_exit", "sigkill"])
def test_children_die_when_their_parent_dies(death: str, request: pytest.FixtureRequest) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, "exit" if death == "os_exit" else "wait"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    pids: list[int] = []

    def cleanup() -> None:
        parent.kill()
        parent.wait()
        assert parent.stdout is not None
        parent.stdout.close()
        for pid in pids:
            kill_if_demo_service(pid)

    request.addfinalizer(cleanup)
    pids += [int(pid) for pid in read_line(parent).split()]
    assert len(pids) == len(DEMO_SERVICES)
    if death == "sigkill":
        assert all(pid_alive(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=DEADLINE_S)
    assert wait_for(lambda: not any(pid_alive(pid) for pid in pids)), [pid for pid in pids if pid_alive(pid)]


@pytest.mark.parametrize(("kind", "signum"), [("http", signal.SIGTERM), ("tcp", signal.SIGINT)])
def test_demo_service_reports_its_port_and_exits_cleanly_on_signal(
    kind: str, signum: int, request: pytest.FixtureRequest
) -> None:
    argv = [sys.executable, "-m", "ops.demo_service", "--name", "x", "--kind", kind]
    proc = subprocess.Popen([*argv, "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE)
    request.addfinalizer(lambda: (proc.kill(), proc.wait(), proc.stdout.close()))
    port = read_listening_port(proc, time.monotonic() + DEADLINE_S)
    assert tcp_accepts(port)
    proc.send_signal(signum)
    assert proc.wait(timeout=DEADLINE_S) == 0


def test_demo_service_exits_at_once_if_its_parent_is_already_gone() -> None:
    argv = [sys.executable, "-m", "ops.demo_service", "--name", "x", "--kind", "tcp"]
    # A parent PID that is not ours models a parent that died before prctl took effect.
    argv += ["--port", "0", "--parent-pid", str(os.getppid())]
    proc = subprocess.run(argv, check=False, cwd=ROOT, capture_output=True, timeout=DEADLINE_S)
    assert proc.returncode == 0 and b"LISTENING" not in proc.stdout
