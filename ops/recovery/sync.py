"""The engine's per-service state kept in step with the shared table (several dashboards, one PostgreSQL).

The table is the truth; each engine's RecoveryState is its cache. Any dashboard writes an operator
change (maintenance, auto, reset) to the table first and then reads it back like every other
change. Only the leader writes counters (when an attempt begins and ends, a circuit change or
forgetting), and it reads counters back only when it takes over (it is their one writer) or when a
reset clears them; the attempt in flight it keeps (its own, to end).

Every poll reads all rows (one per service) and applies those whose version is not the one last
seen: versions are unique per write but do not commit in order, so "newer than the highest seen"
could skip a write that committed late.
"""

from __future__ import annotations

import logging
import threading

from ops.recovery import policy as pol
from ops.recovery.shared import apply_counters, apply_settings, counters_of, resets_of

log = logging.getLogger(__name__)

GLOBAL = ""  # the row of the switches that apply to every service


class StateSync:
    """Reads what changed since the last version seen; writes settings and the leader's counters."""

    def __init__(self, store, states: dict[str, pol.RecoveryState], lock: threading.Lock, clock, wall) -> None:
        self.store, self.states, self.lock, self.clock, self.wall = store, states, lock, clock, wall
        self.versions: dict[str, int] = {}  # per row, the version last applied
        self.resets = dict.fromkeys(states, 0)
        self.auto: bool | None = None  # the global switch as shared; None = as configured
        self._read_lock = threading.Lock()  # one reader at a time: versions are applied in order
        self._write_lock = threading.Lock()  # counter snapshots reach the table in the order taken

    def refresh(self, take_counters: bool) -> bool | None:
        """Apply rows written since the last look; True if anything changed, None if unreachable."""
        with self._read_lock:
            rows = self.store.rows()
            if rows is None:
                return None
            now, wall = self.clock(), self.wall()
            changed = False
            with self.lock:
                for service, version, settings, counters in rows:
                    if self.versions.get(service) == version:
                        continue
                    self.versions[service] = version
                    changed = True
                    self._apply(service, settings or {}, counters or {}, take_counters, now, wall)
            return changed

    def reload(self) -> bool | None:
        """Read every row again, counters included (a new leader, or the start)."""
        with self._read_lock:
            self.versions.clear()
        return self.refresh(take_counters=True)

    def _apply(self, service: str, settings: dict, counters: dict, take_counters: bool, now, wall) -> None:
        if service == GLOBAL:
            auto = settings.get("auto")
            self.auto = auto if isinstance(auto, bool) else None
            return
        st = self.states.get(service)
        if st is None:
            return  # a service this dashboard's configuration does not have
        apply_settings(st, settings, wall)
        resets = resets_of(settings)
        running = take_counters  # a leader taking counters for a reset keeps its attempt in flight
        if resets != self.resets[service]:
            self.resets[service] = resets
            pol.reset(st)  # the operator's reset, wherever it was pressed
            take_counters = True
        if take_counters:
            apply_counters(st, counters, now, wall, running=running)

    def set(self, service: str, changes: dict, reset: bool = False) -> bool:
        """Store an operator change, then read it back; False if the table cannot be reached."""
        if not self.store.set_settings(service, changes, reset):
            return False
        self.refresh(take_counters=False)
        return True

    def share(self, name: str) -> None:
        """The leader's counters of `name` to the table; a refusal means a reset came first: read it, write again."""
        for _ in range(2):
            with self._write_lock:
                with self.lock:
                    data = counters_of(self.states[name], self.clock(), self.wall())
                    resets = self.resets[name]
                stored = self.store.write_counters(name, data, resets)
            if stored is not False:
                break
            self.refresh(take_counters=False)  # the reset; the table must still learn our attempt in flight
        if stored is None:
            log.warning("recovery state of %s not shared (database unreachable); kept in memory", name)
