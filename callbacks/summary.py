"""The summary cards: fleet figures from the snapshot, the history and the recovery log."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from dash import Input, Output

from callbacks.common import parse_iso
from layouts import ids
from layouts.cards import summary_cards
from ops.fleet import COUNTED
from ops.history.protocol import HistoryStore

ENTRY_TIME_KEYS = ("time", "ts", "started_at")
LAST_HOUR = {"1h": timedelta(hours=1)}


def fleet_p95(store: HistoryStore, now: datetime) -> float | None:
    """p95 of every service's answered checks of the last hour, in ms (the store's fleet key "*")."""
    return store.percentiles(LAST_HOUR, now, qs=(95,))["*"]["p95_1h"]


class SweepP95:
    """The fleet's p95, computed once per sweep: every page load shows it, and at 1,000 services it
    costs ~0.25 s (the store ranks each service's checks), which the first paint waited for."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._value: float | None = None

    def __call__(self, snapshot: dict, now: datetime) -> float | None:
        key = (snapshot.get("sweep"), snapshot.get("time"))
        with self._lock:
            if key == self._key and key != (None, None):
                return self._value
        value = fleet_p95(self.store, now)
        with self._lock:
            self._key, self._value = key, value
        return value


def entry_time(entry: dict) -> datetime | None:
    for key in ENTRY_TIME_KEYS:
        moment = parse_iso(entry.get(key)) if isinstance(entry.get(key), str) else None
        if moment is not None:
            return moment
    return None


def recoveries_since(entries: list[dict], since: datetime) -> int:
    """Attempts that started after `since` (skipped ones are not attempts)."""
    return sum(1 for e in entries if e.get("outcome") != "skipped" and (entry_time(e) or since) > since)


def summary_from(snapshot: dict, p95_1h: float | None, entries: list[dict] | None, now: datetime) -> dict:
    """Everything the cards show. The fleet's figures are the server's one fleet rule (ops/fleet.py):
    its counts and overall, never a sum of our own (a degraded or pending service is not "up")."""
    services = [s for s in snapshot.get("services", []) if s.get("enabled", True)]
    counts = {status: (snapshot.get("counts") or {}).get(status, 0) for status in COUNTED}
    uptimes = [s["uptime"]["24h"] for s in services if (s.get("uptime") or {}).get("24h") is not None]
    system = snapshot.get("system") or {}
    return {
        "up": counts["up"],
        "total": sum(counts.values()),  # every counted service: disabled ones are not in the counts
        "down": counts["down"],
        "overall": snapshot.get("overall") or "pending",
        "counts": counts,
        "uptime_24h": round(sum(uptimes) / len(uptimes), 3) if uptimes else None,
        "p95_1h": p95_1h,
        "recoveries_24h": None if entries is None else recoveries_since(entries, now - timedelta(hours=24)),
        "recoveries_note": "attempts logged" if entries is not None else "log unavailable",
        "cpu": system.get("cpu_percent"),
        "cpu_max": system.get("cpu_max"),
        "cpu_over": system.get("cpu_over"),
        "mem": system.get("memory_percent"),
        "mem_max": system.get("mem_max"),
        "mem_over": system.get("mem_over"),
    }


def core_summary(core, snapshot: dict, p95: SweepP95 | None = None) -> dict:
    now = datetime.now(UTC)
    entries = core.recovery_log.recent(limit=5000)
    return summary_from(snapshot, (p95 or SweepP95(core.store))(snapshot, now), entries, now)


def register_callbacks(app, core, p95: SweepP95 | None = None) -> None:
    """The cards follow each sweep and each recovery (`p95`: shared with the page's first paint)."""
    p95 = p95 or SweepP95(core.store)

    # TICK changes when a whole sweep reached the browser (the history grew); the figures come from
    # the server's own snapshot, so the page never posts its services back for them.
    @app.callback(
        Output(ids.CARDS, "children"),
        Input(ids.TICK, "data"),
        Input(ids.RECOVERY_EVENT, "data"),
        prevent_initial_call=True,
    )
    def render_cards(_tick, _event):
        return summary_cards(core_summary(core, core.monitor.snapshot(), p95))
