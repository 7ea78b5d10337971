"""Figures derived from the history only: uptime per window and latency percentiles."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

UPTIME_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
LATENCY_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}
# Pending (not yet confirmed either way) and maintenance (announced downtime) are left out.
NOT_COUNTED = ("pending", "maintenance")
HEALTHY = ("up", "degraded")


def _pct(good: int, counted: int) -> float | None:
    return None if counted == 0 else round(100.0 * good / counted, 3)


def uptime(frame: pd.DataFrame, now: datetime) -> dict[str, dict[str, float | None]]:
    """{service: {"1h": %, "24h": %, "7d": %}}; degraded counts as up, None where nothing counted."""
    if frame.empty:
        return {}
    counted = ~frame["status"].isin(NOT_COUNTED)
    good = frame["status"].isin(HEALTHY)
    out: dict[str, dict[str, float | None]] = {}
    for label, span in UPTIME_WINDOWS.items():
        in_window = frame["ts"] >= pd.Timestamp(now - span)
        sums = (
            pd.DataFrame({"service": frame["service"], "counted": counted & in_window, "good": good & in_window})
            .groupby("service", observed=True)
            .sum()
        )
        for service, row in sums.iterrows():
            out.setdefault(str(service), {})[label] = _pct(int(row["good"]), int(row["counted"]))
    return out


def latency_percentiles(frame: pd.DataFrame, now: datetime) -> dict[str, dict[str, float | None]]:
    """{service: {"p50_1h", "p95_1h", "p50_24h", "p95_24h"}} over successful checks, in ms."""
    out: dict[str, dict[str, float | None]] = {}
    if frame.empty:
        return out
    answered = frame["error"].isna() & frame["latency_ms"].notna()
    for label, span in LATENCY_WINDOWS.items():
        window = frame[answered & (frame["ts"] >= pd.Timestamp(now - span))]
        if window.empty:
            continue
        quantiles = window.groupby("service", observed=True)["latency_ms"].quantile([0.5, 0.95]).unstack()
        for service, row in quantiles.iterrows():
            figures = out.setdefault(str(service), {})
            figures[f"p50_{label}"] = round(float(row[0.5]), 1)
            figures[f"p95_{label}"] = round(float(row[0.95]), 1)
    return out


def service_figures(frame: pd.DataFrame, now: datetime) -> dict[str, dict]:
    """Uptime and latency figures per service, for the snapshot."""
    frame = frame[frame["ts"] >= pd.Timestamp(now - max(UPTIME_WINDOWS.values()))]
    up = uptime(frame, now)
    latency = latency_percentiles(frame, now)
    names = set(up) | set(latency)
    return {name: {"uptime": up.get(name, {}), "latency": latency.get(name, {})} for name in names}
