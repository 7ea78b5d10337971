"""From a service's answer to its `result` message arriving at a WebSocket client (target < 50 ms).

Run: .venv/bin/python bench/push_latency.py
One process: a loopback service stamps the moment it has written its answer; a real WebSocket
client stamps the moment the `result` for that service arrives. A second, hanging service in the
same sweep shows that the news does not wait for the sweep to end.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import websocket
from common import env_summary, percentile

from config import settings_from_dict
from dash_app.factory import create_app

SWEEPS = 50


def stamping_server(answered: list[float], release: threading.Event) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/hang":
                release.wait(30)
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            self.wfile.flush()
            answered.append(time.monotonic())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    answered: list[float] = []
    arrived: list[float] = []
    release = threading.Event()
    server = stamping_server(answered, release)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings = settings_from_dict(
        {"services": [{"name": "fast", "url": base + "/"}, {"name": "hung", "url": base + "/hang", "timeout_s": 0.3}]}
    )
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(settings, data_dir=Path(tmp), start_monitor=False)
        app.serve("127.0.0.1", 0, 0)
        ws = websocket.create_connection(f"ws://127.0.0.1:{app.ws.port}/ws", timeout=5)
        ws.recv()

        def listen() -> None:
            while True:
                try:
                    message = json.loads(ws.recv())
                except Exception:  # noqa: BLE001 - closed at the end
                    return
                if message["type"] == "result" and message["service"]["name"] == "fast":
                    arrived.append(time.monotonic())

        threading.Thread(target=listen, daemon=True).start()
        sweep_ends = []
        for _ in range(SWEEPS):
            app.core.monitor.run_once()
            sweep_ends.append(time.monotonic())
        time.sleep(0.2)
        ws.close()
        app.stop()
    release.set()
    server.shutdown()
    delays = [(a - b) * 1000 for a, b in zip(arrived, answered, strict=False)]
    early = sum(1 for a, end in zip(arrived, sweep_ends, strict=False) if a < end - 0.2)
    print(
        f"answer -> result message at the client, {len(delays)} of {SWEEPS} sweeps: "
        f"p50 {percentile(delays, 50):.1f} ms, p99 {percentile(delays, 99):.1f} ms, max {max(delays):.1f} ms; "
        f"{early} arrived while the hung neighbour still held its sweep open"
    )
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
