"""The cost of persisting one sweep with 10 k and with 1 M rows of history (target: within 2x).

Run: .venv/bin/python bench/persist_cost.py
Persisting is one appended line, so it must not grow with the history. For contrast it also
prints the in-memory work each sweep does afterwards (merge + uptime/percentile figures).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import env_summary
from history_fixture import write_history

from ops.history.embedded import EmbeddedStore
from ops.probes import ProbeResult
from ops.stats import LATENCY_WINDOWS, UPTIME_WINDOWS

NAMES = [f"svc-{i:03d}" for i in range(50)]


def sweep(ts: datetime) -> list[ProbeResult]:
    return [ProbeResult(name, True, 42.0, 200, None, ts, "up") for name in NAMES]


def measure(rows_wanted: int, tmp: Path) -> tuple[float, float, int]:
    path = tmp / f"h{rows_wanted}.json"
    days = rows_wanted / len(NAMES) * 40 / 86400
    rows = write_history(path, NAMES, days=days)
    store = EmbeddedStore(path, timedelta(days=max(days * 2, 1)))
    store.load()
    store.compact()  # now, so the hourly one does not start in the background while we time appends
    append_ms, figures_ms = [], []
    for _ in range(30):
        now = datetime.now(UTC)
        began = time.perf_counter()
        store.append(now, sweep(now))
        append_ms.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        store.uptime(UPTIME_WINDOWS, now)
        store.percentiles(LATENCY_WINDOWS, now)
        figures_ms.append((time.perf_counter() - began) * 1000)
    store.close()
    return statistics.median(append_ms), statistics.median(figures_ms), rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small = measure(10_000, Path(tmp))
        large = measure(1_000_000, Path(tmp))
    for append, figures, rows in (small, large):
        print(
            f"{rows:>9,} rows: persist one 50-service sweep {append:.3f} ms (median of 30); "
            f"uptime + percentiles queries {figures:.1f} ms"
        )
    print(f"persist cost ratio 1 M / 10 k: {large[0] / small[0]:.2f}x")
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
