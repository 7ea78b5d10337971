"""Sweep wall time for 200 loopback services (50-300 ms), 10 of them hanging with a 2 s timeout.

Run: .venv/bin/python bench/sweep_time.py   (target: under 2.5 s, about one timeout, not the sum)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from common import LatencyServerProcess, env_summary, fleet_config

from config import settings_from_dict
from ops.core import Core


def main(runs: int = 3) -> None:
    server = LatencyServerProcess()
    try:
        for concurrency in (64, 200):
            settings = settings_from_dict(
                {"services": fleet_config(server, 200, hanging=10), "max_concurrency": concurrency}
            )
            with tempfile.TemporaryDirectory() as tmp:
                core = Core(settings, Path(tmp))
                core.start(run_loop=False)
                times = []
                for _ in range(runs):
                    began = time.monotonic()
                    snapshot = core.monitor.run_once()
                    times.append(time.monotonic() - began)
                core.stop()
            hung = sum(1 for s in snapshot["services"] if s["error"] == "timeout after 2s")
            serial = sum(50 + (i * 250) // 199 for i in range(190)) / 1000 + 10 * 2
            print(
                f"sweep of 200 services, max_concurrency={concurrency}: median {statistics.median(times):.2f} s, "
                f"max {max(times):.2f} s over {runs} sweeps ({hung} timed out; serial would be {serial:.0f} s)"
            )
    finally:
        server.close()
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
