"""The monitor loop over real loopback services: concurrency, thresholds, restarts, coalescing."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ops.core import Core
from tests.support import Behaviour, free_port, http_service, make_settings, wait_for


@pytest.fixture
def cores(tmp_path):
    made = []

    def make(services, data_dir=None, run_loop=False, **top):
        core = Core(make_settings(services, **top), data_dir or tmp_path)
        core.start(run_loop=run_loop)
        made.append(core)
        return core

    yield make
    for core in made:
        core.stop()


def by_name(snapshot):
    return {s["name"]: s for s in snapshot["services"]}


def test_sweep_probes_concurrently_so_a_hang_costs_one_timeout(cores, http_server):
    http_server.routes["/hang"] = Behaviour(hang=True)
    http_server.routes["/slow"] = Behaviour(delay_s=0.3)
    services = [http_service(f"slow{i}", http_server, "/slow") for i in range(8)]
    services.append(http_service("hung", http_server, "/hang", timeout_s=1.0))
    core = cores(services)
    began = time.monotonic()
    snapshot = core.monitor.run_once()
    assert time.monotonic() - began < 1.9  # one timeout plus overhead, not the sum (3.4 s)
    views = by_name(snapshot)
    assert views["hung"]["error"] == "timeout after 1s" and views["slow3"]["latency_ms"] >= 300


def test_result_of_a_fast_service_is_published_before_a_hung_one_finishes(cores, http_server):
    http_server.routes["/hang"] = Behaviour(hang=True)
    core = cores([http_service("fast", http_server), http_service("hung", http_server, "/hang", timeout_s=2.0)])
    subscription = core.bus.subscribe()
    sweep = threading.Thread(target=core.monitor.run_once)
    began = time.monotonic()
    sweep.start()
    first = wait_for(lambda: subscription.get(0.05), timeout=5, message="first event")
    assert '"type":"result"' in first and '"name":"fast"' in first
    assert time.monotonic() - began < 1.0
    sweep.join(5)


def test_goes_down_after_threshold_and_back_up(cores, http_server):
    core = cores([http_service("a", http_server, failure_threshold=2)])
    assert by_name(core.monitor.run_once())["a"]["status"] == "up"
    http_server.routes["/"] = Behaviour(status=503)
    assert by_name(core.monitor.run_once())["a"]["status"] == "pending"
    down = by_name(core.monitor.run_once())["a"]
    assert (down["status"], down["consecutive_failures"], down["error"]) == ("down", 2, "HTTP 503")
    http_server.routes["/"] = Behaviour()
    up = by_name(core.monitor.run_once())["a"]
    assert (
        up["status"] == "up"
        and up["last_error"] == "HTTP 503"
        and up["uptime"]["1h"] == 50.0  # passed, failed (pending), failed, passed
    )  # up, (pending left out), down, up


def test_restart_keeps_history_figures_and_counters(cores, http_server, tmp_path):
    http_server.routes["/"] = Behaviour(status=500)
    services = [http_service("a", http_server, failure_threshold=1), http_service("b", http_server)]
    first = cores(services, data_dir=tmp_path / "d")
    for _ in range(3):
        first.monitor.run_once()
    before = by_name(first.monitor.snapshot())["a"]
    first.stop()
    second = cores(services, data_dir=tmp_path / "d")
    after = by_name(second.monitor.snapshot())["a"]
    for key in ("status", "consecutive_failures", "last_error", "uptime", "last_change", "last_checked"):
        assert after[key] == before[key], key
    assert after["status"] == "down" and after["consecutive_failures"] == 3


def test_concurrent_check_requests_share_one_sweep(cores, http_server):
    http_server.routes["/"] = Behaviour(delay_s=0.3)
    core = cores([http_service("a", http_server)], run_loop=True, interval_s=60)
    wait_for(lambda: core.monitor.loop_status()["sweeps"] >= 1, message="first sweep")
    hits_before = http_server.hits
    threads = [threading.Thread(target=core.monitor.request_sweep) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert 1 <= http_server.hits - hits_before <= 2  # five requests, not five sweeps
    assert core.monitor.loop_status()["sweeps"] <= 3


def test_sweeps_never_stack_when_a_sweep_outlasts_the_interval(cores, http_server):
    http_server.routes["/"] = Behaviour(delay_s=0.8)
    core = cores([http_service("a", http_server, timeout_s=2)], run_loop=True, interval_s=0.2)
    wait_for(lambda: core.monitor.loop_status()["sweeps"] >= 3, timeout=10, message="three sweeps")
    assert all(ms >= 750 for ms in core.monitor.sweep_ms)
    assert http_server.hits <= core.monitor.loop_status()["sweeps"] + 1


def test_loop_runs_on_the_interval_and_survives_failures(cores):
    core = cores(
        [{"name": "gone", "url": f"http://127.0.0.1:{free_port()}/", "timeout_s": 0.5}], run_loop=True, interval_s=0.3
    )
    wait_for(lambda: core.monitor.loop_status()["sweeps"] >= 4, timeout=10, message="four sweeps")
    status = core.monitor.loop_status()
    assert status["running"] and status["errors"] == 0 and status["next_run"] is not None
    assert by_name(core.monitor.snapshot())["gone"]["status"] == "down"


def test_snapshot_carries_system_metrics_against_thresholds(cores, http_server):
    core = cores([http_service("a", http_server)], thresholds={"cpu_max": 100, "mem_max": 1})
    system = core.monitor.run_once()["system"]
    assert 0 <= system["cpu_percent"] <= 100 and system["mem_over"] is True and system["cpu_over"] is False


def test_disabled_service_is_not_probed_and_not_in_overall(cores, http_server):
    core = cores([http_service("a", http_server), {"name": "off", "port": free_port(), "enabled": False}])
    snapshot = core.monitor.run_once()
    assert by_name(snapshot)["off"]["status"] == "disabled" and snapshot["overall"] == "up"


def drip_server(stop: threading.Event) -> socket.socket:
    """Answers every connection with a status line, then one header byte every 0.2 s: each read
    succeeds in time, so only a deadline over the whole request can end the check."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.2):
                try:
                    conn.sendall(b"X")
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def test_a_dripping_service_ends_at_its_timeout_every_sweep_and_never_stalls_it(cores, http_server):
    stop = threading.Event()
    listener = drip_server(stop)
    try:
        drip = {"name": "drip", "url": f"http://127.0.0.1:{listener.getsockname()[1]}/", "timeout_s": 0.5}
        core = cores([drip, http_service("web", http_server)])
        for _ in range(2):
            began = time.monotonic()
            views = by_name(core.monitor.run_once())
            assert time.monotonic() - began < 2.5  # 0.5 s timeout + 1 s grace, not forever
            # Each sweep's check really ran and ended at its deadline: none is left hanging.
            assert views["web"]["status"] == "up" and views["drip"]["error"] == "timeout after 0.5s"
    finally:
        stop.set()
        listener.close()
