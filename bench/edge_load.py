"""GET /api/health latency while slow clients hold both ports, and while 100 WebSocket clients listen.

Run: .venv/bin/python bench/edge_load.py   (target: p99 under 100 ms, no sweep late by 1 s)
The app runs as its own process (20 services, 1 s interval). This process holds 1,000 half-open
connections on each port (a request line, then a header byte every second, never the blank line;
each one the server closes is opened again at once), or 100 WebSocket clients that read every
message, while one client asks for /api/health 20 times a second. A WebSocket listener times the
snapshots the loop sends after each sweep: a gap over the interval is a late sweep.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import resource
import selectors
import socket
import tempfile
import threading
import time
from pathlib import Path

import websocket
from common import AppProcess, LatencyServerProcess, env_summary, fleet_config, percentile

HALF_OPEN = 1000
WS_CLIENTS = 100
SECONDS = 15.0
RATE = 20  # /api/health requests per second
INTERVAL_S = 1.0


class SlowLoris:
    """Holds `count` half-open connections to each port, reopening those the server closes."""

    def __init__(self, ports: list[int], count: int) -> None:
        self.ports, self.count = ports, count
        self.selector = selectors.DefaultSelector()
        self.reopened = 0
        self._stop = threading.Event()
        for port in ports:
            for _ in range(count):
                self._open(port)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open(self, port: int) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, port)
        except OSError:
            pass

    def _run(self) -> None:
        next_drip = time.monotonic() + 1
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.1):  # readable = closed (or an error answer)
                self.selector.unregister(key.fileobj)
                key.fileobj.close()
                self.reopened += 1
                self._open(key.data)
            if time.monotonic() >= next_drip:  # one header byte a second: never idle, never finished
                next_drip += 1
                for key in list(self.selector.get_map().values()):
                    try:
                        key.fileobj.send(b"X")
                    except OSError:
                        pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()


class Listeners:
    """`count` WebSocket clients reading everything; the first records when each snapshot arrives."""

    def __init__(self, ws_port: int, count: int) -> None:
        self.snapshots: list[float] = []
        self.sockets = [websocket.create_connection(f"ws://127.0.0.1:{ws_port}/ws", timeout=10) for _ in range(count)]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, args=x, daemon=True) for x in enumerate(self.sockets)]
        for thread in self._threads:
            thread.start()

    def _read(self, index: int, ws) -> None:
        ws.settimeout(0.5)
        while not self._stop.is_set():
            try:
                message = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:
                return
            if index == 0 and '"type":"sweep"' in message.replace(" ", ""):  # the end of a sweep
                self.snapshots.append(time.monotonic())

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        for ws in self.sockets:
            ws.close()


def _listen_until_stopped(ws_port: int, count: int, ready, stop) -> None:
    listeners = Listeners(ws_port, count)
    ready.set()
    stop.wait()
    listeners.close()


class ListenerProcess:
    """The WebSocket clients in their own process, so their reading does not slow the measuring client."""

    def __init__(self, ws_port: int, count: int) -> None:
        self.ready, self.stop = multiprocessing.Event(), multiprocessing.Event()
        self.proc = multiprocessing.Process(
            target=_listen_until_stopped, args=(ws_port, count, self.ready, self.stop), daemon=True
        )
        self.proc.start()
        if not self.ready.wait(60):
            self.close()
            raise RuntimeError("the WebSocket clients did not connect")

    def close(self) -> None:
        self.stop.set()
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)


def measure(port: int) -> tuple[list[float], int]:
    """/api/health latencies (ms) at RATE per second for SECONDS, over one keep-alive connection."""
    latencies, errors = [], 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    next_at = time.monotonic()
    deadline = next_at + SECONDS
    while time.monotonic() < deadline:
        next_at += 1 / RATE
        time.sleep(max(0.0, next_at - time.monotonic()))
        began = time.perf_counter()
        try:
            conn.request("GET", "/api/health")
            answer = conn.getresponse()
            answer.read()
            if answer.status != 200:
                errors += 1
                continue
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            continue
        latencies.append((time.perf_counter() - began) * 1000)
    conn.close()
    return latencies, errors


def phase(label: str, app: AppProcess, setup) -> dict:
    load = setup()
    watcher = Listeners(app.ws_port, 1)
    try:
        time.sleep(1)
        latencies, errors = measure(app.port)
    finally:
        watcher.close()
        extra = getattr(load, "reopened", None)
        if load is not None:
            load.close()
    gaps = [b - a for a, b in zip(watcher.snapshots, watcher.snapshots[1:], strict=False)]
    late = max((g - INTERVAL_S for g in gaps), default=float("nan"))
    print(
        f"  {label}: {len(latencies)} requests, {errors} errors, p50 {percentile(latencies, 50):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies):.1f} ms; {len(gaps) + 1} sweeps seen, "
        f"latest {max(late, 0.0):.2f} s late" + (f"; {extra} held connections closed by the server" if extra else "")
    )
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "late": late}


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = LatencyServerProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = {"services": fleet_config(server, 20), "interval_s": INTERVAL_S}
            app = AppProcess(config, Path(tmp))
            try:
                time.sleep(2)
                print(f"GET /api/health at {RATE}/s for {SECONDS:.0f} s, loop running (20 services, {INTERVAL_S:g} s):")
                phase("quiet", app, lambda: None)
                phase(f"{HALF_OPEN} half-open on each port", app, lambda: SlowLoris([app.port, app.ws_port], HALF_OPEN))
                listeners = lambda: ListenerProcess(app.ws_port, WS_CLIENTS - 1)  # noqa: E731 - and the watcher
                phase(f"{WS_CLIENTS} WebSocket clients", app, listeners)
                with urllib_open(app.port, "/api/loop-status") as loop:
                    print(f"  loop: {loop['sweeps']} sweeps, {loop['errors']} errors")
            finally:
                app.stop()
    finally:
        server.close()
    print(f"({env_summary()})")


class urllib_open:  # noqa: N801 - a tiny context manager over one GET
    def __init__(self, port: int, path: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.path = path

    def __enter__(self) -> dict:
        self.conn.request("GET", self.path)
        return json.loads(self.conn.getresponse().read())

    def __exit__(self, *exc) -> None:
        self.conn.close()


if __name__ == "__main__":
    main()
