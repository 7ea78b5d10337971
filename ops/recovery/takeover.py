"""Leadership hand-over for the recovery engine, and its glue to the shared state (ops/recovery/sync.py).

Attempts started by another (lost) leader are "adopted": their service stays busy until their end is
recorded or their deadline passes, and they are never rerun. With several dashboards over one
PostgreSQL the engine's settings and counters live in a shared table; these helpers read and write it.
Each function takes the RecoveryEngine it works for; the engine keeps thin delegates where callers use them.
"""

from __future__ import annotations

import logging

from ops.probes import ProbeResult
from ops.recovery.records import INTERRUPTED, RUNNING
from ops.recovery_log import KEEP_IN_MEMORY

log = logging.getLogger(__name__)

STATE_POLL_S = 1.0  # how often a dashboard reads the shared state's changes (one indexed query)


def interrupt_orphans(engine, reason: str = "the dashboard stopped during the attempt") -> None:
    """Mark attempts left "running" (by a killed process or a lost leader) interrupted; never rerun.

    An attempt the shared counters still call running (its action may outlive its dashboard)
    keeps its service busy until its end is recorded or its deadline passes (settle_adopted).
    """
    with engine._lock:
        busy = {st.running_id for st in engine._states.values() if st.running_id is not None}
    for entry in engine.log.recent(limit=KEEP_IN_MEMORY):
        if entry.get("outcome") == RUNNING and entry.get("id") not in busy:
            engine.log.update(entry | {"outcome": INTERRUPTED, "reason": reason})
    settle_adopted(engine)


def settle_adopted(engine) -> None:
    """End (interrupted, counted neither way) the adopted attempts that ended or outlived their deadline."""
    now = engine._clock()
    with engine._lock:
        adopted = {
            name: (st.running_id, st.running_until)
            for name, st in engine._states.items()
            if st.running_id is not None and engine._mine.get(name, (None,))[0] != st.running_id
        }
    for name, (entry_id, until) in adopted.items():
        entry = next((e for e in engine.log.recent(KEEP_IN_MEMORY, name) if e.get("id") == entry_id), None)
        ended = entry is not None and entry.get("outcome") != RUNNING
        if not ended and until is not None and now < until:
            continue  # its action may still run (its own process group outlives a killed leader)
        with engine._lock:
            st = engine._states[name]
            if st.running_id != entry_id:
                continue
            st.running_id = st.running_until = None
            st.failures, st.skip_reason = 0, None
        log.warning("%s: the attempt %s of the last leader %s", name, entry_id, "ended" if ended else "timed out")
        share(engine, name)
        if entry is not None and not ended:
            reason = "the leading dashboard was lost during the attempt; its deadline has passed"
            engine._publish(entry | {"outcome": INTERRUPTED, "reason": reason})
        engine._republish()


def take_over(engine) -> None:
    """Leadership gained: the counters as the last leader left them (attempt caps hold across leaders)."""
    if engine._sync is not None:
        engine._sync.reload()
        apply_global(engine)


def poll(engine) -> None:
    """Read the shared state's changes; a leader shows them in its views (and so on every page)."""
    while not engine._stopping.wait(STATE_POLL_S):
        try:
            changed = engine._sync.refresh(take_counters=not engine.leading())
            apply_global(engine)
            if changed and engine.leading():
                engine._republish()
            if engine.leading():
                settle_adopted(engine)
        except Exception:  # noqa: BLE001 - a bad row must not end the polling
            log.exception("shared recovery state: refresh failed")


def apply_global(engine) -> None:
    """The global auto switch: the shared one if set, else the configured one."""
    engine.auto_enabled = engine.policy.enabled if engine._sync.auto is None else engine._sync.auto


def before_deciding(engine, name: str, result: ProbeResult, service) -> None:
    """A failure that may start an attempt: read the shared settings first (a maintenance set elsewhere)."""
    st = engine._states[name]
    if engine._sync is not None and not result.ok and st.failures + 1 >= engine.limits(service).threshold:
        engine._sync.refresh(take_counters=False)
        apply_global(engine)


def read_shared(engine) -> None:
    """A follower's answers show the table as it is now (a leader's memory is already the newest)."""
    if engine._sync is not None and not engine.leading():
        engine._sync.refresh(take_counters=True)
        apply_global(engine)


def share(engine, name: str) -> None:
    """A leader writes one service's state to the shared table (no-op without one)."""
    if engine._sync is not None and engine.leading():
        engine._sync.share(name)
