"""Load: GET /api/health as fast as the app answers, while the loop keeps its interval and the page answers.

Run: .venv/bin/python bench/load.py [--seconds 20] [--clients 16]
(targets: the loop keeps 1 sweep/s; GET / stays under 1 s; p99 printed at the highest sustained rate)

The app is its own process (50 loopback services at a 1 s interval); Python's GIL makes its request
handling one core's worth whatever the thread count. The clients are asyncio keep-alive sockets in
this process (the other core). Phases: idle (baseline), flat out (the highest rate: throughput),
then paced at 80 % of that rate (the latency at a rate it sustains without a queue).
While each phase runs, a sampler thread reads /api/loop-status every 0.5 s and times GET / and
GET /_dash-layout (what a browser fetches to draw the page) and a Prometheus scrape every second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests
from common import AppProcess, LatencyServerProcess, env_summary, fleet_config, percentile

PACED_SHARE = 0.8


async def client(port: int, deadline: float, latencies: list[float], rate: float | None, phase: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    await asyncio.sleep(phase)
    next_at = time.monotonic()
    try:
        while time.monotonic() < deadline:
            if rate:
                next_at += 1 / rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - began) * 1000)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    finally:
        writer.close()


async def hammer(port: int, clients: int, seconds: float, total_rate: float | None) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    rate = total_rate / clients if total_rate else None
    spread = (1 / rate) / clients if rate else 0.0
    await asyncio.gather(*(client(port, deadline, latencies, rate, i * spread) for i in range(clients)))
    return latencies


class Sampler(threading.Thread):
    """Loop status every 0.5 s and page timings every 1 s, until stopped (bounded by the phase)."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stop = base, threading.Event()
        self.sweep_ms: list[float] = []
        self.page_ms: dict[str, list[float]] = {"/": [], "/_dash-layout": [], "/metrics": []}
        self.sweeps: list[tuple[float, int]] = []

    def run(self) -> None:
        session = requests.Session()
        tick = 0
        while not self.stop.wait(0.5):
            loop = session.get(self.base + "/api/loop-status", timeout=10).json()
            self.sweeps.append((time.monotonic(), loop["sweeps"]))
            if loop["last_sweep_ms"] is not None:
                self.sweep_ms.append(loop["last_sweep_ms"])
            tick += 1
            if tick % 2 == 0:
                for path, times in self.page_ms.items():
                    began = time.perf_counter()
                    answer = session.get(self.base + path, timeout=30)
                    answer.raise_for_status()
                    times.append((time.perf_counter() - began) * 1000)
        session.close()

    def sweep_rate(self) -> float:
        (t0, s0), (t1, s1) = self.sweeps[0], self.sweeps[-1]
        return (s1 - s0) / (t1 - t0)


def phase(app: AppProcess, label: str, seconds: float, run) -> tuple[list[float], Sampler, float, float]:
    """Run `run()` (the load, or a sleep) with a sampler; returns latencies, sampler, app and client CPU %."""
    sampler = Sampler(f"http://127.0.0.1:{app.port}")
    proc, me = psutil.Process(app.pid), psutil.Process()
    proc.cpu_percent(), me.cpu_percent()
    sampler.start()
    began = time.monotonic()
    latencies = run()
    elapsed = time.monotonic() - began
    app_cpu, my_cpu = proc.cpu_percent(), me.cpu_percent()
    sampler.stop.set()
    sampler.join(30)
    print_phase(label, latencies, elapsed, sampler, app_cpu, my_cpu)
    return latencies, sampler, app_cpu, my_cpu


def print_phase(label, latencies, elapsed, sampler, app_cpu, my_cpu) -> None:
    if latencies:
        print(
            f"  {label}: {len(latencies):,} requests in {elapsed:.0f} s = {len(latencies) / elapsed:,.0f} req/s, "
            f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
            f"max {max(latencies):.0f} ms; app CPU {app_cpu:.0f} % of a core, clients {my_cpu:.0f} %"
        )
    else:
        print(f"  {label}: no load; app CPU {app_cpu:.0f} % of a core")
    pages = ", ".join(
        f"GET {path} p50 {percentile(t, 50):.0f} ms max {max(t):.0f} ms" for path, t in sampler.page_ms.items() if t
    )
    print(
        f"    loop: {sampler.sweep_rate():.2f} sweeps/s (interval 1 s), last_sweep_ms p50 "
        f"{percentile(sampler.sweep_ms, 50):.0f} max {max(sampler.sweep_ms):.0f}; {pages}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase (default 20)")
    parser.add_argument("--clients", type=int, default=16, help="keep-alive connections (default 16)")
    args = parser.parse_args()
    server = LatencyServerProcess()
    try:
        with tempfile.TemporaryDirectory(prefix="mc-load-") as tmp:
            app = AppProcess({"services": fleet_config(server, 50), "interval_s": 1}, Path(tmp))
            try:
                time.sleep(3)  # first sweeps, page layout built
                print(f"load: GET /api/health, {args.clients} keep-alive clients; app: 50 services at 1 s")
                phase(app, "idle", args.seconds / 2, lambda: time.sleep(args.seconds / 2) or [])
                flat, *_ = phase(
                    app,
                    "flat out",
                    args.seconds,
                    lambda: asyncio.run(hammer(app.port, args.clients, args.seconds, None)),
                )
                rate = PACED_SHARE * len(flat) / args.seconds
                phase(
                    app,
                    f"paced at {PACED_SHARE:.0%} of that ({rate:,.0f} req/s)",
                    args.seconds,
                    lambda: asyncio.run(hammer(app.port, args.clients, args.seconds, rate)),
                )
            finally:
                app.stop()
    finally:
        server.close()
    print(f"({env_summary()}; load average {os.getloadavg()[0]:.1f} at the end: other work shares these cores)")


if __name__ == "__main__":
    main()
