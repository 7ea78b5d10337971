"""The windows the dashboard's uptime and latency figures cover, and what uptime counts.

Every history store computes them by these rules (ops/history/protocol.py: `uptime`, `percentiles`,
`tallies`); ops/figures.py keeps them up to date check by check.
"""

from __future__ import annotations

from datetime import datetime, timedelta

UPTIME_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
LATENCY_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}
# Uptime is the share of checks that passed (degraded ones did: they answered correctly). A failure
# below failure_threshold still counts: thresholds decide the status shown, not what happened, or a
# service failing two checks in three would show 100 %. Maintenance (announced downtime) is left out.
NOT_COUNTED = ("maintenance",)
# What GET /api/uptime and the details panel may ask for: the page's windows and the long ones the
# rollups answer (ops/history/protocol.py). A window longer than the store keeps is refused, not
# answered from less history than its name says.
REPORT_WINDOWS = {**UPTIME_WINDOWS, "30d": timedelta(days=30), "90d": timedelta(days=90)}
REPORT_PERCENTILES = (50, 95)


def uptime_report(store, labels: list[str], now: datetime, names: list[str], whole_fleet: bool) -> dict:
    """Uptime and latency percentiles over each labelled window (REPORT_WINDOWS) for each of `names`
    (null where the store holds no check of it), as the store answers them over the checks it holds
    in the window; with `whole_fleet`, also the fleet's percentiles (all answered checks pooled)."""
    spans = {label: REPORT_WINDOWS[label] for label in labels}
    service = names[0] if len(names) == 1 and not whole_fleet else None
    uptime = store.uptime(spans, now, service)
    latency = store.percentiles(spans, now, REPORT_PERCENTILES, service)

    def figures(pcts: dict, up: dict | None) -> dict:
        out: dict = {} if up is None else {"uptime": {label: up.get(label) for label in labels}}
        for q in REPORT_PERCENTILES:
            out[f"p{q}_ms"] = {label: pcts.get(f"p{q}_{label}") for label in labels}
        return out

    report = {
        "as_of": now.isoformat(),
        "windows": labels,
        "services": {name: figures(latency.get(name, {}), uptime.get(name, {})) for name in names},
    }
    if whole_fleet:  # with one service, "*" would be that service's figures again
        report["fleet"] = figures(latency.get("*", {}), None)
    return report
