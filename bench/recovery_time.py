"""Time to recovery of a killed demo service at a 2 s interval and threshold 3 (default policy otherwise).

Run: .venv/bin/python bench/recovery_time.py [--trials N]

Each trial SIGKILLs one demo service's process by PID at a random point of the sweep cycle, then
reads the event bus: when the monitor marked it down (detect), when the recovery action had
restarted it (restart), and when a verification probe found it healthy (verified); all from the kill.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from common import env_summary, watch_incident

from config import settings_from_dict
from ops.core import Core
from ops.demo_fleet import DemoFleet

INTERVAL_S = 2.0
THRESHOLD = 3
TARGETS = ("bytebot-desktop", "postgres", "bytebot-agent", "bytebot-ui")
TRIAL_DEADLINE_S = 60.0


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def wait_up(core: Core, name: str, deadline: float) -> None:
    while core.monitor.states[name].status not in ("up", "degraded"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} never came up")
        time.sleep(0.05)


def trial(core: Core, fleet: DemoFleet, name: str, rng: random.Random) -> dict:
    """Kill `name` and follow the events until its recovery has finished; times in seconds from the kill."""
    wait_up(core, name, time.monotonic() + TRIAL_DEADLINE_S)
    core.recovery.reset(name)  # a fresh incident: no backoff left over from an earlier trial
    time.sleep(rng.uniform(0, INTERVAL_S))  # land anywhere in the sweep cycle
    subscription = core.bus.subscribe()
    try:
        killed = time.time()
        os.kill(fleet.pid(name), signal.SIGKILL)
        detected, entry = watch_incident(subscription, name, TRIAL_DEADLINE_S)
        return figures(name, entry, killed, detected)
    finally:
        subscription.close()


def figures(name: str, entry: dict, killed: float, detected: float | None) -> dict:
    started = _ts(entry["time"])
    return {
        "service": name,
        "outcome": entry["outcome"],
        "detect": detected - killed if detected else float("nan"),
        "trigger": started - killed,
        "restart": started + entry["action_s"] - killed,
        "verified": started + entry.get("time_to_healthy_s", float("nan")) - killed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    fleet = DemoFleet()
    fleet.start()
    try:
        config = {"services": fleet.service_configs(), "interval_s": INTERVAL_S}
        config["thresholds"] = {"restart_failures": THRESHOLD}
        settings = settings_from_dict(config, "bench")
        with tempfile.TemporaryDirectory() as tmp:
            core = Core(settings, Path(tmp), demo=fleet)
            core.start()
            try:
                rows = [trial(core, fleet, TARGETS[i % len(TARGETS)], rng) for i in range(args.trials)]
            finally:
                core.stop()
    finally:
        fleet.stop()
    report(rows)


def report(rows: list[dict]) -> None:
    print(f"killed demo service, interval {INTERVAL_S:g} s, restart_failures {THRESHOLD} (seconds from the kill)")
    print(f"{'service':<16} {'outcome':<10} {'detect':>7} {'trigger':>8} {'restart':>8} {'verified':>9}")
    for r in rows:
        print(
            f"{r['service']:<16} {r['outcome']:<10} {r['detect']:7.2f} {r['trigger']:8.2f} "
            f"{r['restart']:8.2f} {r['verified']:9.2f}"
        )
    for key in ("detect", "restart", "verified"):
        values = [r[key] for r in rows]
        print(f"{key:>9}: median {statistics.median(values):.2f} s, min {min(values):.2f} s, max {max(values):.2f} s")
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
