"""The last checks of some services, compact, for the page's sparklines and heartbeat strips.

The browser draws them itself (assets/22_mc_sparks.js) and appends each live result, so the server
sends this once per row it shows, not on every update.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pandas as pd

SPARK_POINTS = 30  # checks per row: each has one slot, its point on the line and its block in the strip
MAX_POINTS = 500


def spark_since(interval_s: float, now: datetime, points: int = SPARK_POINTS) -> datetime:
    """How far back the last `points` checks can be (generous, so one late sweep does not cut them)."""
    return now - timedelta(seconds=max(interval_s, 0.2) * points * 3 + 60)


def recent_checks(frame: pd.DataFrame, names: Iterable[str], points: int = SPARK_POINTS) -> dict[str, list]:
    """{name: [[epoch ms, latency ms or None, status, error or None], ...]} oldest first, per service.

    A failed check has no latency (a refused connection "takes" 0.7 ms): its error says what happened.
    Every asked name has an entry, empty when it has no check in `frame`."""
    wanted = list(dict.fromkeys(names))
    out: dict[str, list] = {name: [] for name in wanted}
    if frame.empty or not wanted:
        return out
    picked = frame[frame["service"].isin(wanted)]
    picked = picked.groupby("service", observed=True, sort=False).tail(points)
    stamps = (picked["ts"].astype("datetime64[ms, UTC]").astype("int64")).tolist()
    errors = [None if pd.isna(e) else str(e) for e in picked["error"]]
    latency = [
        None if pd.isna(v) or e is not None else float(v) for v, e in zip(picked["latency_ms"], errors, strict=True)
    ]
    for name, ts, ms, status, error in zip(
        picked["service"].astype(str), stamps, latency, picked["status"].astype(str), errors, strict=True
    ):
        out[name].append([ts, ms, status, error])
    return out
