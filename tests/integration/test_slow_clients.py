"""Half-open connections (a request line, never the end of the headers) on both ports, as an attacker
on loopback holds them: the API answers, the sweeps stay on time, a healthy service is shown up."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
import websocket

from dash_app.edge import HEAD_TIMEOUT_S, raise_fd_limit
from dash_app.factory import create_app
from tests.integration.processes import ROOT
from tests.integration.test_cli import config_file
from tests.support import http_service, make_settings, wait_for

HALF_OPEN = 1000
HALF_HEAD = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # never the blank line that ends it


@pytest.fixture
def held():
    """Open sockets, all closed at the end (the test process needs ~4 descriptors per held connection)."""
    if raise_fd_limit() < 4 * 2 * HALF_OPEN + 512:
        pytest.skip("descriptor limit too low for this test")
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def hold(sockets: list, port: int, count: int) -> None:
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(HALF_HEAD)
        sockets.append(sock)


@pytest.fixture
def live_app(tmp_path, http_server):
    """The app with its loop running (0.5 s) over one healthy service; sweep times recorded."""
    app = create_app(make_settings([http_service("web", http_server)]), data_dir=tmp_path)
    app.sweeps = []
    app.core.monitor.result_listeners.append(lambda *_: app.sweeps.append(time.monotonic()))
    app.serve("127.0.0.1", 0, 0)
    app.base = f"http://127.0.0.1:{app.http.port}"
    yield app
    app.stop()


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_1000_half_open_connections_on_each_port_starve_nothing(live_app, held):
    threads_before = threading.active_count()
    began = time.monotonic()
    hold(held, live_app.http.port, HALF_OPEN)
    hold(held, live_app.ws.port, HALF_OPEN)
    assert threading.active_count() < threads_before + 20  # no thread per waiting connection
    took = []
    while len(took) < 20 or time.monotonic() - began < 3.0:  # held over several sweeps
        start = time.monotonic()
        answer = requests.get(live_app.base + "/api/health", timeout=5)  # starved, it timed out
        took.append(time.monotonic() - start)
        assert answer.status_code == 200
        assert answer.json()["services"][0]["status"] == "up"
    assert sorted(took)[len(took) // 2] < 0.25, took  # the median: one slow answer on a busy machine is noise
    ws = websocket.create_connection(f"ws://127.0.0.1:{live_app.ws.port}/ws", timeout=5)
    assert json.loads(ws.recv())["type"] == "snapshot"
    ws.close()
    recent = [t for t in live_app.sweeps if t >= began]
    gaps = [b - a for a, b in zip(recent, recent[1:], strict=False)]
    assert gaps and max(gaps) < 0.5 + 1.0, gaps  # no sweep late by a second
    # The deadline: every held connection is closed by the server within HEAD_TIMEOUT_S (+ 1 s sweeps).
    wait_for(lambda: live_app.ws.acceptor.pending == 0, timeout=HEAD_TIMEOUT_S + 5, message="WS heads expired")
    http_channels = live_app.http._server.active_channels
    wait_for(lambda: len(http_channels) < 10, timeout=HEAD_TIMEOUT_S + 5, message="HTTP heads expired")
    assert closed_by_server(held[0]) and closed_by_server(held[-1])


def test_a_flood_over_the_caps_evicts_the_oldest_waiting_not_the_newcomer(live_app, held):
    caps = live_app.http._server.caps
    hold(held, live_app.http.port, caps.per_address + 50)  # more than one address may hold
    assert len(live_app.http._server.active_channels) <= caps.per_address + 1
    assert requests.get(live_app.base + "/api/health", timeout=5).ok
    assert closed_by_server(held[0])  # the oldest went first


def test_a_websocket_handshake_sent_slowly_but_in_time_still_connects(live_app):
    sock = socket.create_connection(("127.0.0.1", live_app.ws.port), timeout=5)
    with contextlib.closing(sock):
        head = (
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        for part in (head[:20], head[20:60], head[60:]):
            sock.sendall(part)
            time.sleep(0.3)
        assert sock.recv(4096).startswith(b"HTTP/1.1 101")


def test_a_busy_ws_port_is_one_line_and_exit_1(tmp_path, http_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = config_file(tmp_path, [{"name": "web", "url": http_server.url()}])
        args = ["--config", config, "--port", "0", "--ws-port", str(port), "--data-dir", str(tmp_path)]
        result = subprocess.run(
            [sys.executable, "-m", "dash_app", *args], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 1
    assert f"error: cannot listen for WebSocket on 127.0.0.1:{port}: it is already in use" in result.stderr
    assert "is in use by another program" not in result.stderr and "Traceback" not in result.stderr
