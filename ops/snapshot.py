"""The snapshot: everything the API, the WebSocket and the page show, as one plain dict."""

from __future__ import annotations

from datetime import datetime

from config.settings import ServiceSettings
from ops.fleet import fleet_summary
from ops.stats import LATENCY_WINDOWS, UPTIME_WINDOWS
from ops.status import ServiceState


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()


def service_view(service: ServiceSettings, state: ServiceState, figures: dict, extra: dict) -> dict:
    """One service as the views show it: live state plus figures from the history."""
    result = state.last_result
    # A failed check has no latency (a refused connection "takes" 0.7 ms): the error says what happened.
    answered = result is not None and result.ok and result.latency_ms is not None
    uptime = figures.get("uptime", {})
    latency = figures.get("latency", {})
    view = {
        "name": service.name,
        "type": service.type,
        "target": service.target,
        "tags": list(service.tags),
        "enabled": service.enabled,
        "status": state.status if service.enabled else "disabled",
        "latency_ms": round(result.latency_ms, 1) if answered else None,
        "http_status": None if result is None else result.http_status,
        "error": None if result is None else result.error,
        "last_error": state.last_error,
        "uptime": {label: uptime.get(label) for label in UPTIME_WINDOWS},
        "latency": {f"{p}_{label}": latency.get(f"{p}_{label}") for label in LATENCY_WINDOWS for p in ("p50", "p95")},
        "consecutive_failures": state.consecutive_failures,
        "consecutive_successes": state.consecutive_successes,
        "last_checked": _iso(None if result is None else result.ts),
        "last_change": _iso(state.last_change),
    }
    view.update(extra)
    return view


STORAGE_OK = {"ok": True, "error": None, "since": None}


def build_snapshot(
    now: datetime,
    services: list[dict],
    system: dict,
    sweep: int,
    storage: dict | None = None,
    fleet: dict | None = None,
) -> dict:
    """The whole snapshot; `overall` and `counts` follow the one fleet rule (ops/fleet.py), or are
    `fleet` when the caller already holds them (ops/fleet_tally.py, kept current view by view).

    `storage` says whether the history reaches the disk ({"ok", "error", "since"}): on a full disk
    monitoring goes on from memory, and the page says so instead of silently losing history.
    """
    fleet = fleet or fleet_summary(services)
    return {
        "type": "snapshot",
        "time": now.isoformat(),
        "sweep": sweep,
        "overall": fleet["overall"],
        "counts": fleet["counts"],
        "services": services,
        "system": system,
        "storage": storage or STORAGE_OK,
    }
