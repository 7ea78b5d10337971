"""GET /api/health latency with 50 concurrent keep-alive clients while the monitor loop runs.

Run: .venv/bin/python bench/api_latency.py   (target: p50 under 5 ms)
The app runs as its own process (50 services, 1 s interval); the clients are asyncio sockets in
this process, so client overhead is small and does not share the server's GIL.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import urllib.request
from pathlib import Path

from common import AppProcess, LatencyServerProcess, env_summary, fleet_config, percentile

CLIENTS = 50
SECONDS = 10.0
PACED_RATE = 10  # requests per second per client in the paced run: 500/s in all


async def client(port: int, deadline: float, latencies: list[float], rate: float | None, phase: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await asyncio.sleep(phase)  # spread the clients over the period instead of firing in lockstep
    request = f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            if rate:  # paced: one request every 1/rate s, like a dashboard polling
                next_at += 1 / rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            body = await reader.readexactly(length)
            latencies.append((time.perf_counter() - began) * 1000)
            assert body.startswith(b'{"type":"snapshot"')
    finally:
        writer.close()


async def load(port: int, rate: float | None) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + SECONDS
    period = 1 / rate if rate else 0.0
    await asyncio.gather(*(client(port, deadline, latencies, rate, i * period / CLIENTS) for i in range(CLIENTS)))
    return latencies


def report(label: str, latencies: list[float]) -> None:
    print(
        f"  {label}: {len(latencies)} requests ({len(latencies) / SECONDS:.0f}/s), "
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms"
    )


def main() -> None:
    server = LatencyServerProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = {"services": fleet_config(server, 50), "interval_s": 1}
            app = AppProcess(config, Path(tmp))
            try:
                time.sleep(2)
                paced = asyncio.run(load(app.port, PACED_RATE))
                flat_out = asyncio.run(load(app.port, None))
                with urllib.request.urlopen(f"http://127.0.0.1:{app.port}/api/loop-status") as answer:
                    loop = json.load(answer)
            finally:
                app.stop()
    finally:
        server.close()
    print(
        f"GET /api/health, {CLIENTS} concurrent keep-alive clients, {SECONDS:.0f} s each,"
        " loop running (50 services, 1 s):"
    )
    report(f"paced, {PACED_RATE}/s per client", paced)
    report("flat out (saturation)", flat_out)
    print(f"  loop meanwhile: {loop['sweeps']} sweeps, last took {loop['last_sweep_ms']} ms, errors {loop['errors']}")
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
