"""The fleet rule kept up to date one view at a time: O(1) per result instead of O(services).

The rule itself stays in ops/fleet.py: the overall status depends only on which fleet statuses are
present, so `summary()` asks `fleet_summary` about one stand-in view per status present.
"""

from __future__ import annotations

from collections import Counter

from ops.fleet import COUNTED, fleet_status, fleet_summary


class FleetTally:
    """Counts of each service's fleet status (ops/fleet.py), updated as views change."""

    def __init__(self) -> None:
        self._status: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self._summary: dict | None = None

    def put(self, view: dict) -> None:
        """Count `view` in place of its service's previous view."""
        name, status = view["name"], fleet_status(view)
        before = self._status.get(name)
        if before == status:
            return
        if before is not None:
            self._counts[before] -= 1
        self._status[name] = status
        self._counts[status] += 1
        self._summary = None

    def summary(self) -> dict:
        """{"overall", "counts"} exactly as fleet_summary(all current views) says."""
        if self._summary is None:  # asked once per result, changed far less often
            self._summary = self._summarise()
        return {"overall": self._summary["overall"], "counts": dict(self._summary["counts"])}

    def _summarise(self) -> dict:
        present = [s for s, n in self._counts.items() if n > 0 and s != "disabled"]
        stand_ins = [{"name": s, "status": s, "enabled": True, "maintenance": s == "maintenance"} for s in present]
        counts = dict.fromkeys(COUNTED, 0)
        counts.update({s: self._counts[s] for s in present})
        return {"overall": fleet_summary(stand_ins)["overall"], "counts": counts}
