"""Write a realistic history file: N services checked every 40 s for D days."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT  # noqa: F401 - puts the project on sys.path

from ops.history.embedded_file import encode_sweep


def write_history(path: Path, services: list[str], days: float, interval_s: float = 40.0, seed: int = 1) -> int:
    """Returns the number of rows written; ~1 % failures, latencies 5-300 ms."""
    rng = random.Random(seed)  # synthetic benchmark input, never shown to a user
    now = datetime.now(UTC)
    sweeps = int(days * 86400 / interval_s)
    rows = 0
    with open(path, "wb") as handle:
        for n in range(sweeps):
            ts = now - timedelta(seconds=(sweeps - n) * interval_s)
            batch = []
            for name in services:
                if rng.random() < 0.01:
                    batch.append((name, "down", 2000.0, None, "timeout after 2s"))
                else:
                    batch.append((name, "up", round(rng.uniform(5, 300), 1), 200, None))
            handle.write(encode_sweep(ts, batch))
            rows += len(batch)
    return rows
