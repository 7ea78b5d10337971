"""Shared pieces of the benchmarks: a loopback fleet with set latencies, the app as a process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PORTS_RE = re.compile(r"http://[\d.]+:(\d+)/\s+WebSocket on ws://[\d.]+:(\d+)/ws")


def stop_child(proc: subprocess.Popen) -> None:
    """A child that serves until its stdin closes: close it, then kill it if it lingers."""
    if proc.stdin:
        proc.stdin.close()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class LatencyServer:
    """One threaded loopback server: /d/<ms> answers after ms milliseconds, /hang never answers."""

    def __init__(self) -> None:
        release = self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/hang"):
                    release.wait(60)
                    return
                delay = int(self.path.rsplit("/", 1)[-1]) / 1000 if self.path.startswith("/d/") else 0
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

            def handle_error(self, request, client_address) -> None:
                pass  # a prober that gave up (timeout) resets its connection: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


SERVE_FOREVER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from common import LatencyServer
server = LatencyServer()
print(server.port, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin (or dies)
"""


class LatencyServerProcess:
    """LatencyServer in its own process, so it does not compete with the monitor for the GIL."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE_FOREVER, str(Path(__file__).parent)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.proc.stdout.readline())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        stop_child(self.proc)


FLEET_SERVE = """
import asyncio, os, sys

async def main(count, hanging):
    release = asyncio.Event()

    def handler(delay):
        async def serve(reader, writer):
            try:
                await reader.readuntil(b"\\r\\n\\r\\n")
                if delay is None:
                    await release.wait()  # a hung service: reads the request, never answers
                    return
                await asyncio.sleep(delay)
                writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
                await writer.drain()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
                pass
            finally:
                writer.close()
        return serve

    servers = []
    for i in range(count):
        delay = None if i >= count - hanging else (5 + (i * 195) // max(count - 1, 1)) / 1000
        servers.append(await asyncio.start_server(handler(delay), "127.0.0.1", 0, backlog=64))
    print(" ".join(str(s.sockets[0].getsockname()[1]) for s in servers), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until our stdin closes
    os._exit(0)  # at once, without cancelling a thousand held connections one by one

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


class FleetProcess:
    """`count` loopback HTTP services, one port each, served by one asyncio process.

    Service i answers 200 after 5-200 ms (spread evenly); the last `hanging` read the request and
    never answer. One process and no thread per connection, so the fleet costs the machine little.
    """

    def __init__(self, count: int, hanging: int = 0) -> None:
        self.count, self.hanging = count, hanging
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FLEET_SERVE, str(count), str(hanging)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ports = [int(p) for p in self.proc.stdout.readline().split()]
        if len(self.ports) != count:
            self.close()
            raise RuntimeError(f"the fleet process started {len(self.ports)} of {count} services")

    def services(self, timeout_s: float) -> list[dict]:
        """Config entries for the whole fleet, each with `timeout_s`."""
        return [
            {"name": f"svc-{i:04d}", "url": f"http://127.0.0.1:{port}/health", "timeout_s": timeout_s}
            for i, port in enumerate(self.ports)
        ]

    def close(self) -> None:
        stop_child(self.proc)


def fleet_config(server, count: int, hanging: int = 0, timeout_s: float = 2.0) -> list[dict]:
    """`count` services with latencies spread over 50-300 ms, the last `hanging` never answering."""
    services = []
    for i in range(count):
        path = "/hang" if i >= count - hanging else f"/d/{50 + (i * 250) // max(count - 1, 1)}"
        services.append({"name": f"svc-{i:03d}", "url": server.url(path), "timeout_s": timeout_s})
    return services


class AppProcess:
    """`python -m dash_app` on free ports, started and stopped by this benchmark (by PID)."""

    def __init__(self, config: dict, data_dir: Path, *extra: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        config_path = data_dir / "bench_config.json"
        config_path.write_text(json.dumps(config))
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dash_app",
                "--config",
                str(config_path),
                "--data-dir",
                str(data_dir),
                "--port",
                "0",
                "--ws-port",
                "0",
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=lambda: [self.lines.append(line) for line in self.proc.stderr], daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = next((PORTS_RE.search(line) for line in list(self.lines) if PORTS_RE.search(line)), None)
            if match:
                self.port, self.ws_port = int(match[1]), int(match[2])
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the app did not start:\n" + "".join(self.lines))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def env_summary() -> str:
    return f"python {sys.version.split()[0]}, {os.cpu_count()} cores"


def watch_incident(subscription, name: str, timeout_s: float) -> tuple[float | None, dict]:
    """Follow the bus after a kill: when `name` was first shown down (wall time, or None), and its
    first finished recovery entry. TimeoutError if none finishes within timeout_s."""
    detected = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = subscription.get(timeout=0.5)
        event = json.loads(text) if text else {}
        view = event.get("service") if event.get("type") == "result" else None
        if detected is None and view and view["name"] == name and view["status"] == "down":
            detected = time.time()  # when the news arrived, not when its sweep began
        entry = event.get("entry") if event.get("type") == "recovery" else None
        if entry and entry["service"] == name and entry["outcome"] not in ("running", "skipped"):
            return detected, entry
    raise TimeoutError(f"no finished recovery of {name} within {timeout_s:g}s")
