"""The WebSocket: first snapshot on connect, then news as it happens; slow clients hurt nobody."""

from __future__ import annotations

import json
import socket
import time

import websocket

from tests.support import wait_for


def connect(app, timeout=5):
    return websocket.create_connection(app.ws_url, timeout=timeout)


def receive(ws, wanted_type, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv())
        if message["type"] == wanted_type:
            return message
    raise AssertionError(f"no {wanted_type} message within {timeout}s")


def test_client_gets_the_current_snapshot_then_the_next(running_app):
    running_app.core.monitor.run_once()
    ws = connect(running_app)
    try:
        first = json.loads(ws.recv())
        assert first["type"] == "snapshot" and first["sweep"] == 1
        running_app.core.monitor.run_once()
        result = receive(ws, "result")
        assert result["service"]["name"] in ("web", "db")
        assert receive(ws, "sweep")["sweep"] == 2
    finally:
        ws.close()


def test_result_leaves_the_server_quickly_after_the_probe(running_app):
    ws = connect(running_app)
    try:
        ws.recv()  # the snapshot on connect
        began = time.monotonic()
        running_app.core.monitor.run_once()
        result = receive(ws, "result")
        assert result["service"]["last_checked"] is not None
        assert time.monotonic() - began < 1.0
    finally:
        ws.close()


def test_a_slow_client_does_not_delay_a_fast_one(running_app):
    slow = socket.create_connection(("127.0.0.1", running_app.ws.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    slow.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )  # a client that completes the handshake and then never reads a byte
    fast = connect(running_app)
    try:
        fast.recv()
        wait_for(lambda: len(running_app.core.bus) == 2, message="both subscribed")
        pad = "x" * 65536
        began = time.monotonic()
        for n in range(150):  # ~10 MB: more than the slow client's socket buffers can hold
            running_app.core.bus.publish({"type": "bulk", "n": n, "pad": pad})
            assert json.loads(fast.recv())["n"] == n
        assert time.monotonic() - began < 10
        running_app.core.monitor.run_once()
        assert receive(fast, "sweep")["sweep"] == 1
        dropped = [s.dropped for s in running_app.core.bus._subscriptions]
        assert max(dropped) > 0 and min(dropped) == 0  # the slow one lost its oldest, the fast one nothing
    finally:
        fast.close()
        slow.close()


def test_disconnected_clients_are_removed(running_app):
    clients = [connect(running_app) for _ in range(3)]
    wait_for(lambda: len(running_app.core.bus) == 3, message="three subscribers")
    for ws in clients:
        ws.close()
    wait_for(lambda: len(running_app.core.bus) == 0, timeout=5, message="subscribers removed")


def test_server_shutdown_closes_clients(running_app):
    ws = connect(running_app)
    ws.recv()
    running_app.stop()
    deadline = time.monotonic() + 5
    closed = False
    while time.monotonic() < deadline and not closed:
        try:
            closed = ws.recv() == "" or ws.getstatus() is not None and not ws.connected
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            closed = True
    assert closed


def test_a_client_message_over_the_size_cap_closes_its_connection(running_app):
    ws = connect(running_app)
    ws.recv()
    ws.send("x" * 10_000)  # the cap is 4 KiB: clients have nothing that large to say
    deadline = time.monotonic() + 5
    closed = False
    while time.monotonic() < deadline and not closed:
        try:
            closed = ws.recv() == ""
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            closed = True
    assert closed
    wait_for(lambda: len(running_app.core.bus) == 0, timeout=5, message="subscriber removed")


def test_sweep_message_is_a_delta_of_the_views_that_changed(running_app):
    core = running_app.core
    core.monitor.run_once()
    ws = connect(running_app)
    try:
        snapshot = json.loads(ws.recv())
        assert snapshot["type"] == "snapshot" and {s["name"] for s in snapshot["services"]} == {"web", "db"}
        core.monitor.run_once()
        sweep = receive(ws, "sweep")
        assert set(sweep) == set(snapshot) and sweep["sweep"] == 2
        # Every view went out in its result message the moment its check returned: nothing new here.
        assert sweep["services"] == []
        core.recovery.set_maintenance("web", True, None)  # a change made between sweeps
        changed = receive(ws, "sweep")
        assert [v["name"] for v in changed["services"]] == ["web"] and changed["services"][0]["maintenance"]
        full = json.loads(core.monitor.snapshot_text())  # GET /api/health and new clients: every service
        assert full["type"] == "snapshot" and len(full["services"]) == 2
    finally:
        ws.close()
