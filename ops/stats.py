"""Figures derived from the history only: uptime per window and latency percentiles.

The history is in time order, so each window is a slice found by binary search, and the
per-service sums are numpy bincounts over category codes: no copy of the frame per sweep.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

UPTIME_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
LATENCY_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}
# Uptime is the share of checks that passed (degraded ones did: they answered correctly). A failure
# below failure_threshold still counts: thresholds decide the status shown, not what happened, or a
# service failing two checks in three would show 100 %. Maintenance (announced downtime) is left out.
NOT_COUNTED = ("maintenance",)


def _start(frame: pd.DataFrame, now: datetime, span: timedelta) -> int:
    return int(frame["ts"].searchsorted(pd.Timestamp(now - span)))


def uptime(frame: pd.DataFrame, now: datetime) -> dict[str, dict[str, float | None]]:
    """{service: {"1h": %, "24h": %, "7d": %}}; degraded counts as up, None where nothing counted."""
    if frame.empty:
        return {}
    names = [str(n) for n in frame["service"].cat.categories]
    codes = frame["service"].cat.codes.to_numpy()
    counted = ~frame["status"].isin(NOT_COUNTED).to_numpy()
    good = frame["error"].isna().to_numpy() & counted
    out: dict[str, dict[str, float | None]] = {}
    for label, span in UPTIME_WINDOWS.items():
        start = _start(frame, now, span)
        window = codes[start:]
        total = np.bincount(window[counted[start:]], minlength=len(names))
        up = np.bincount(window[good[start:]], minlength=len(names))
        present = np.bincount(window, minlength=len(names))
        for i, name in enumerate(names):
            if present[i] or name in out:
                out.setdefault(name, {})[label] = (
                    None if total[i] == 0 else round(100.0 * float(up[i]) / float(total[i]), 3)
                )
    return out


def latency_percentiles(frame: pd.DataFrame, now: datetime) -> dict[str, dict[str, float | None]]:
    """{service: {"p50_1h", "p95_1h", "p50_24h", "p95_24h"}} over successful checks, in ms."""
    out: dict[str, dict[str, float | None]] = {}
    if frame.empty:
        return out
    names = [str(n) for n in frame["service"].cat.categories]
    codes = frame["service"].cat.codes.to_numpy()
    latency = frame["latency_ms"].to_numpy()
    answered = frame["error"].isna().to_numpy() & ~np.isnan(latency)
    for label, span in LATENCY_WINDOWS.items():
        start = _start(frame, now, span)
        keep = answered[start:]
        window_codes, window_latency = codes[start:][keep], latency[start:][keep]
        for i in np.unique(window_codes):
            p50, p95 = np.percentile(window_latency[window_codes == i], [50, 95])
            figures = out.setdefault(names[i], {})
            figures[f"p50_{label}"] = round(float(p50), 1)
            figures[f"p95_{label}"] = round(float(p95), 1)
    return out


def service_figures(frame: pd.DataFrame, now: datetime) -> dict[str, dict]:
    """Uptime and latency figures per service, for the snapshot."""
    frame = frame.iloc[_start(frame, now, max(UPTIME_WINDOWS.values())) :]
    up = uptime(frame, now)
    latency = latency_percentiles(frame, now)
    return {name: {"uptime": up.get(name, {}), "latency": latency.get(name, {})} for name in set(up) | set(latency)}
