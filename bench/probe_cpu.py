"""CPU of the probing alone: sweeps of 1,000 loopback HTTP checks through ProbeRunner, no monitor.

    .venv/bin/python bench/probe_cpu.py [--services 1000] [--sweeps 6]

The fleet (bench/common.py FleetProcess: one asyncio process, answers in 5-200 ms, the last 20 never
answer, 2 s timeout) runs in its own process, so the CPU counted here (user + system of this
process) is the checks' own: connect, send, read, parse, the probe loop and the runner's hand-off.
`bench/scale.py` gives the whole dashboard's CPU at the same scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from datetime import UTC, datetime

from common import FleetProcess, env_summary

from config import settings_from_dict
from ops.probe_runner import ProbeRunner
from ops.probes import Prober


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--sweeps", type=int, default=6)
    args = parser.parse_args()
    fleet = FleetProcess(args.services, hanging=20)
    prober = Prober()
    try:
        settings = settings_from_dict({"services": fleet.services(2.0), "interval_s": 10}, "bench")
        services = list(settings.services)
        runner = ProbeRunner(prober, settings.max_concurrency, threading.Event())
        runner.run(services, datetime.now(UTC), lambda result: result)  # the first sweep warms up
        user, system, walls, passed = [], [], [], 0
        for _ in range(args.sweeps):
            before, began = os.times(), time.monotonic()
            results = runner.run(services, datetime.now(UTC), lambda result: result)
            after = os.times()
            walls.append(time.monotonic() - began)
            user.append(after.user - before.user)
            system.append(after.system - before.system)
            passed = sum(result.ok for result in results)
            time.sleep(1)
        total = [u + s for u, s in zip(user, system, strict=True)]
        print(f"probing {len(services)} services ({passed} passed, 20 hanging), {args.sweeps} sweeps:")
        print(f"  CPU per sweep: median {statistics.median(total):.2f} s (min {min(total):.2f}, max {max(total):.2f});")
        print(f"  user {statistics.median(user):.2f} s + system {statistics.median(system):.2f} s (medians)")
        per_check_us = statistics.median(total) / len(services) * 1e6
        print(f"  per check: {per_check_us:.0f} us; sweep wall p50 {statistics.median(walls):.2f} s")
        print(f"({env_summary()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    finally:
        prober.close()
        fleet.close()


if __name__ == "__main__":
    main()
