"""Mission Control at 1,000 services (issue 12): sweep time, CPU, RSS, API and /metrics latency, WebSocket bytes.

    .venv/bin/python bench/scale.py [--services 1000] [--hanging 20] [--cpu-window 60]

One asyncio process serves the fleet (1,000 loopback HTTP services, one port each, answering in
5-200 ms; the last 20 never answer). Mission Control runs as its own process (`python -m dash_app`)
at a 10 s interval, twice:

1. services with a 2 s timeout: the sweep duration (target: the slowest timeout + 1 s, <= 3 s);
2. services with a 5 s timeout: CPU of one core over `--cpu-window` s with no client (<= 10 %),
   RSS, the WebSocket bytes of one sweep for one client, GET /api/health p50 (<= 5 ms) and
   GET /metrics p50 (<= 50 ms).

Bounded in time (about 4 minutes), stops by itself, and stops only the processes it started.
The page's figures at this scale (paint, bytes before paint, result -> painted, a tab's CPU) come
from `bench/page_speed.py --services 1000`: it runs Chromium against its own fleet and history.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import websocket
from common import AppProcess, FleetProcess, env_summary, percentile

INTERVAL_S = 10


def get(app: AppProcess, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{app.port}{path}", timeout=30) as answer:
        return answer.read()


def loop_status(app: AppProcess) -> dict:
    return json.loads(get(app, "/api/loop-status"))


@contextmanager
def running_app(fleet: FleetProcess, timeout_s: float, data: Path) -> Iterator[AppProcess]:
    """Mission Control on the whole fleet, every service with `timeout_s`, until the block ends."""
    config = {"services": fleet.services(timeout_s), "interval_s": INTERVAL_S}
    app = AppProcess(config, data)
    try:
        yield app
    finally:
        app.stop()


def wait_sweeps(app: AppProcess, count: int, limit_s: float) -> list[float]:
    """Wait for `count` more sweeps to finish; their durations in ms (from /api/loop-status)."""
    durations: list[float] = []
    seen = loop_status(app)["sweeps"]
    deadline = time.monotonic() + limit_s
    while len(durations) < count and time.monotonic() < deadline:
        time.sleep(0.25)
        status = loop_status(app)
        if status["sweeps"] > seen:
            seen = status["sweeps"]
            durations.append(status["last_sweep_ms"])
    return durations


def sweep_figures(fleet: FleetProcess, data: Path, sweeps: int = 4) -> dict:
    """Sweep durations with every service at a 2 s timeout."""
    with running_app(fleet, 2.0, data) as app:
        wait_sweeps(app, 1, 60)  # the first sweep starts with the process: leave it out
        durations = wait_sweeps(app, sweeps, sweeps * INTERVAL_S + 30)
    return {
        "sweep_p50_s": statistics.median(durations) / 1000,
        "sweep_max_s": max(durations) / 1000,
        "n": len(durations),
    }


def timed_gets(app: AppProcess, path: str, count: int) -> float:
    """p50 in ms of `count` sequential GETs on one keep-alive connection (as a poller or scraper)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    latencies = []
    try:
        for _ in range(count):
            began = time.perf_counter()
            conn.request("GET", path)
            conn.getresponse().read()
            latencies.append((time.perf_counter() - began) * 1000)
    finally:
        conn.close()
    return percentile(latencies, 50)


def first_scrape_after_sweep(app: AppProcess, sweeps: int = 3) -> float:
    """Median ms of the first GET /metrics after each of `sweeps` sweeps (every series changed)."""
    times = []
    for _ in range(sweeps):
        wait_sweeps(app, 1, 2 * INTERVAL_S + 10)
        times.append(timed_gets(app, "/metrics", 1))
    return statistics.median(times)


def websocket_bytes(app: AppProcess, limit_s: float = 30) -> dict:
    """Bytes one client receives on connect (the full snapshot) and over one whole sweep."""
    ws = websocket.create_connection(f"ws://127.0.0.1:{app.ws_port}/ws", timeout=limit_s)
    try:
        first = ws.recv()
        deadline = time.monotonic() + limit_s
        counting, total, messages = False, 0, 0
        while time.monotonic() < deadline:
            text = ws.recv()
            kind = "sweep" if text.startswith(('{"type":"sweep"', '{"type":"snapshot"')) else "other"
            if counting:
                total += len(text.encode())
                messages += 1
            if kind == "sweep":
                if counting:
                    break
                counting = True  # from the end of one sweep to the end of the next
    finally:
        ws.close()
    return {"ws_connect_bytes": len(first.encode()), "ws_sweep_bytes": total, "ws_sweep_messages": messages}


def server_figures(fleet: FleetProcess, data: Path, cpu_window_s: float) -> dict:
    """CPU, RSS, WebSocket bytes, /api/health and /metrics latency with every service at 5 s."""
    with running_app(fleet, 5.0, data) as app:
        wait_sweeps(app, 2, 60)  # start-up and the first sweeps (threads created) are not steady
        process = psutil.Process(app.pid)
        before, began = sum(process.cpu_times()[:2]), time.monotonic()
        time.sleep(cpu_window_s)
        cpu = (sum(process.cpu_times()[:2]) - before) / (time.monotonic() - began) * 100
        rss = process.memory_info().rss
        figures = {"cpu_percent": cpu, "rss_mib": rss / 2**20, **websocket_bytes(app)}
        figures["health_p50_ms"] = timed_gets(app, "/api/health", 200)
        figures["metrics_p50_ms"] = timed_gets(app, "/metrics", 50)
        figures["metrics_cold_ms"] = first_scrape_after_sweep(app)
        figures["metrics_bytes"] = len(get(app, "/metrics"))
        figures["health_bytes"] = len(get(app, "/api/health"))
        figures["threads"] = process.num_threads()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--hanging", type=int, default=20)
    parser.add_argument("--cpu-window", type=float, default=60.0)
    args = parser.parse_args()
    load_before = os.getloadavg()
    fleet = FleetProcess(args.services, args.hanging)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sweep = sweep_figures(fleet, Path(tmp) / "sweep")
            server = server_figures(fleet, Path(tmp) / "server", args.cpu_window)
    finally:
        fleet.close()
    load_after = os.getloadavg()
    n, h, s = args.services, args.hanging, server
    lines = [
        f"Mission Control at {n} loopback services ({h} hanging), {INTERVAL_S} s interval:",
        f"  sweep, 2 s timeout:       p50 {sweep['sweep_p50_s']:.2f} s, max {sweep['sweep_max_s']:.2f} s "
        f"over {sweep['n']} sweeps (target <= 3 s)",
        f"  CPU steady, 5 s timeout:  {s['cpu_percent']:.1f} % of one core over {args.cpu_window:.0f} s "
        "(target <= 10 %)",
        f"  RSS:                      {s['rss_mib']:.0f} MiB ({s['threads']} threads)",
        f"  GET /api/health p50:      {s['health_p50_ms']:.1f} ms ({s['health_bytes'] / 1024:.0f} KiB; target <= 5 ms)",
        f"  GET /metrics p50:         {s['metrics_p50_ms']:.1f} ms ({s['metrics_bytes'] / 1024:.0f} KiB; "
        f"target <= 50 ms); first scrape after a sweep {s['metrics_cold_ms']:.1f} ms",
        f"  WebSocket, one client:    {s['ws_sweep_bytes'] / 1024:.0f} KiB per sweep in {s['ws_sweep_messages']} "
        f"messages ({s['ws_connect_bytes'] / 1024:.0f} KiB snapshot on connect)",
    ]
    print("\n".join(lines))
    print(
        f"(load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before, "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after; {env_summary()})"
    )


if __name__ == "__main__":
    main()
