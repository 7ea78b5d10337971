"""The fleet rule: one overall status and one set of counts, computed on the server, shown by every view.

- Disabled services are not counted at all.
- A service in maintenance is counted only as "maintenance", whatever its last check said:
  announced downtime is not news, so it never turns the fleet red nor shows up as "down".
- The overall status comes from the watched services (enabled, not in maintenance): down if any
  is down; pending if all are pending; degraded if any is degraded or pending; else up.
- A fleet whose every enabled service is in maintenance is "maintenance"; no enabled service at
  all is "pending".

`SEVERITY` is the one order of statuses, worst first: the table's status sort and the chart's
"worst check in a bucket" both use it.
"""

from __future__ import annotations

from ops.status import overall_status

SEVERITY: tuple[str, ...] = ("down", "degraded", "pending", "maintenance", "up", "disabled")
COUNTED: tuple[str, ...] = ("up", "degraded", "down", "pending", "maintenance")
_RANK = {status: i for i, status in enumerate(SEVERITY)}


def severity(status: str | None) -> int:
    """Position in SEVERITY (0 is worst); an unknown status sorts after every known one."""
    return _RANK.get(status or "", len(SEVERITY))


def fleet_status(view: dict) -> str:
    """What one service view counts as in the fleet: disabled, maintenance, or its status."""
    if not view.get("enabled", True):
        return "disabled"
    if view.get("maintenance"):
        return "maintenance"
    return view.get("status") or "pending"


def fleet_summary(views: list[dict]) -> dict:
    """{"overall": status, "counts": {up, degraded, down, pending, maintenance}} of the service views."""
    counts = dict.fromkeys(COUNTED, 0)
    watched: list[str] = []
    for view in views:
        status = fleet_status(view)
        if status == "disabled":
            continue
        counts[status] = counts.get(status, 0) + 1
        if status != "maintenance":
            watched.append(status)
    everyone_announced = not watched and counts["maintenance"] > 0
    return {"overall": "maintenance" if everyone_announced else overall_status(watched), "counts": counts}
