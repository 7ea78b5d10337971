"""Soak: 50 services at 1 s, 20 WebSocket clients, a steady API load; RSS, threads and fds over time.

Run: .venv/bin/python bench/soak.py [--minutes 30] [--every 5]
(target: RSS, threads and open file descriptors flat between the first report and the last)
The app runs as its own process; the fleet is a loopback LatencyServerProcess, the WebSocket clients
(websocket-client) and the paced API client (requests, keep-alive) are threads of this process.
Every loop stops at the deadline; the app and the fleet are stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests
import websocket
from common import AppProcess, LatencyServerProcess, env_summary, fleet_config, percentile

SERVICES = 50
WS_CLIENTS = 20
API_RATE = 20.0  # requests per second, alternating /api/health and /api/history


class WsClient(threading.Thread):
    """One WebSocket client that reads everything until told to stop; reconnects if dropped."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.messages = self.reconnects = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                ws = websocket.create_connection(self.url, timeout=5)
            except OSError:
                self.reconnects += 1
                self.stop.wait(1)
                continue
            try:
                while not self.stop.is_set():
                    try:
                        if ws.recv():
                            self.messages += 1
                    except websocket.WebSocketTimeoutException:
                        continue
            except (OSError, websocket.WebSocketException):
                self.reconnects += 1
            finally:
                ws.close()


class ApiLoad(threading.Thread):
    """Paced GETs on one keep-alive session; latencies kept per report period."""

    def __init__(self, base: str, rate: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.period, self.stop = base, 1 / rate, stop
        self.latencies: list[float] = []
        self.requests = self.errors = 0
        self.lock = threading.Lock()

    def run(self) -> None:
        session = requests.Session()
        paths = ("/api/health", "/api/history")
        next_at = time.monotonic()
        while not self.stop.is_set():
            next_at += self.period
            self.stop.wait(max(0.0, next_at - time.monotonic()))
            began = time.perf_counter()
            try:
                ok = session.get(self.base + paths[self.requests % 2], timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            with self.lock:
                self.requests += 1
                self.errors += 0 if ok else 1
                self.latencies.append((time.perf_counter() - began) * 1000)
        session.close()

    def take(self) -> list[float]:
        with self.lock:
            taken, self.latencies = self.latencies, []
        return taken


def loop_status(base: str) -> dict:
    return requests.get(base + "/api/loop-status", timeout=10).json()


def report(label: str, proc: psutil.Process, base: str, began: float, api: ApiLoad, clients: list[WsClient]) -> dict:
    """Print one line of figures for the app process and return them."""
    rss = proc.memory_info().rss / 2**20
    threads, fds = proc.num_threads(), proc.num_fds()
    cpu = proc.cpu_percent()  # since the previous report
    loop = loop_status(base)
    lat = api.take()
    api_part = f"p50 {percentile(lat, 50):.1f} ms p99 {percentile(lat, 99):.1f} ms" if lat else "no requests"
    print(
        f"{label:>7} t={time.monotonic() - began:6.0f}s  RSS {rss:6.1f} MiB  threads {threads:3d}  fds {fds:4d}  "
        f"CPU {cpu:5.1f} %  "
        f"sweeps {loop['sweeps']:5d} (errors {loop['errors']}, last {loop['last_sweep_ms']} ms)  "
        f"API {api.requests} req, {api.errors} errors, {api_part}  "
        f"WS {sum(c.messages for c in clients):,} msgs, {sum(c.reconnects for c in clients)} reconnects",
        flush=True,
    )
    return {"rss": rss, "threads": threads, "fds": fds, "sweeps": loop["sweeps"]}


def soak(minutes: float, every_s: float, data: Path) -> None:
    server = LatencyServerProcess()
    stop = threading.Event()
    app = None
    try:
        app = AppProcess({"services": fleet_config(server, SERVICES), "interval_s": 1}, data)
        base = f"http://127.0.0.1:{app.port}"
        proc = psutil.Process(app.pid)
        proc.cpu_percent()
        clients = [WsClient(f"ws://127.0.0.1:{app.ws_port}/ws", stop) for _ in range(WS_CLIENTS)]
        api = ApiLoad(base, API_RATE, stop)
        for thread in (*clients, api):
            thread.start()
        deadline = time.monotonic() + 60
        while loop_status(base)["sweeps"] < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        print(
            f"soak: {SERVICES} services at 1 s, {WS_CLIENTS} WebSocket clients, {API_RATE:.0f} req/s API "
            f"(/api/health + /api/history), {minutes:g} min; app pid {app.pid}",
            flush=True,
        )
        began = time.monotonic()
        first = report("start", proc, base, began, api, clients)
        end = began + minutes * 60
        while (now := time.monotonic()) < end:
            time.sleep(min(every_s, end - now))
            if time.monotonic() < end - 1:
                report("", proc, base, began, api, clients)
        last = report("end", proc, base, began, api, clients)
        elapsed = time.monotonic() - began
        rate = (last["sweeps"] - first["sweeps"]) / elapsed
        print(
            f"change start->end: RSS {last['rss'] - first['rss']:+.1f} MiB, "
            f"threads {last['threads'] - first['threads']:+d}, "
            f"fds {last['fds'] - first['fds']:+d}; {rate:.3f} sweeps/s (interval 1 s); "
            f"history file {(data / 'health_history.json').stat().st_size / 2**20:.1f} MiB"
        )
        print(f"({env_summary()})")
    finally:
        stop.set()
        if app is not None:
            app.stop()
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to soak (default 30)")
    parser.add_argument("--every", type=float, default=5.0, help="minutes between reports (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mc-soak-") as tmp:
        soak(args.minutes, args.every * 60, Path(tmp))


if __name__ == "__main__":
    main()
