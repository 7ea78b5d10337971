"""Process RSS with 50 services and 7 days of history loaded, and CPU of the idle process.

Run: .venv/bin/python bench/memory_cpu.py   (targets: RSS under 150 MiB; idle CPU under 1 % of a core
monitoring 50 services at a 20 s interval)
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from common import AppProcess, LatencyServerProcess, env_summary, fleet_config
from history_fixture import write_history

CPU_WINDOW_S = float(os.environ.get("CPU_WINDOW_S", "60"))  # seconds watched after the first sweep


def sweeps(app: AppProcess) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{app.port}/api/loop-status") as answer:
        return json.load(answer)["sweeps"]


def measure(server, tmp: Path, with_history: bool) -> None:
    services = fleet_config(server, 50)
    data = tmp / ("full" if with_history else "empty")
    data.mkdir()
    rows = 0
    if with_history:
        rows = write_history(data / "health_history.json", [s["name"] for s in services], days=7)
    began = time.monotonic()
    app = AppProcess({"services": services, "interval_s": 20}, data)
    try:
        started_s = time.monotonic() - began
        while sweeps(app) < 1:
            time.sleep(0.1)
        process = psutil.Process(app.pid)
        rss_start = process.memory_info().rss
        cpu_before = sum(process.cpu_times()[:2])
        time.sleep(CPU_WINDOW_S)
        cpu = (sum(process.cpu_times()[:2]) - cpu_before) / CPU_WINDOW_S * 100
        rss_end = process.memory_info().rss
    finally:
        app.stop()
    print(
        f"50 services at 20 s, {rows:,} history rows ({'7 days' if with_history else 'none'}): "
        f"up and serving in {started_s:.1f} s, RSS {rss_start / 2**20:.0f} MiB after the first sweep, "
        f"{rss_end / 2**20:.0f} MiB {CPU_WINDOW_S:.0f} s later; CPU {cpu:.2f} % of a core over {CPU_WINDOW_S:.0f} s"
    )


def main() -> None:
    server = LatencyServerProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            measure(server, Path(tmp), with_history=True)
            measure(server, Path(tmp), with_history=False)
    finally:
        server.close()
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
