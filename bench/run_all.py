"""Run every benchmark in turn and print its figures: `make bench` (about 15 minutes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = [
    "sweep_time.py",
    "push_latency.py",
    "api_latency.py",
    "persist_cost.py",
    "memory_cpu.py",
    "recovery_time.py",
    "page_speed.py",
    "scale.py",
    "probe_cpu.py",
]


def main() -> int:
    failed = 0
    for name in SCRIPTS:
        script = HERE / name
        if not script.exists():
            continue
        print(f"== {name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
