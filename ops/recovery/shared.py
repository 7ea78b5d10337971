"""A service's recovery state as the shared table holds it (plain dicts, wall times), and back.

The engine counts with a monotonic clock, which means nothing in another process: every clock value
crosses as a wall time (`wall - (now - value)`) and comes back as `now - (wall - value)`. Pure
functions, no I/O (ops/history/postgres_recovery_state.py stores the dicts).
"""

from __future__ import annotations

from ops.recovery import policy as pol

SETTING_KEYS = ("maintenance", "maintenance_until", "auto")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def counters_of(st: pol.RecoveryState, now: float, wall: float) -> dict:
    """What the leader shares: the attempt in flight, attempts in the window, backoff, flapping, the circuit."""

    def to_wall(values) -> list[float]:
        return [round(wall - (now - v), 3) for v in values]

    return {
        "running_id": st.running_id,
        "running_until": None if st.running_until is None else round(wall - (now - st.running_until), 3),
        "attempts": to_wall(st.attempts),
        "failed": to_wall(st.failed),
        "recovered": to_wall(st.recovered),
        "flapping": st.flapping,
        "backoff_level": st.backoff_level,
        "not_before": round(wall - (now - st.not_before), 3) if st.not_before > now else None,
        "circuit_open": st.circuit_open,
        "circuit_opened_at": st.circuit_opened_at,
        "circuit_reason": st.circuit_reason,
    }


def apply_counters(st: pol.RecoveryState, data: dict, now: float, wall: float, running: bool = True) -> None:
    """Take the shared counters into `st` (an empty dict: a reset, or nothing recorded yet).

    `running=False` keeps `st`'s attempt in flight: a leader's own attempt is its to end.
    """

    def to_clock(values) -> list[float]:
        return [now - (wall - v) for v in values if _number(v)] if isinstance(values, list) else []

    for key in ("attempts", "failed", "recovered"):
        times = getattr(st, key)
        times.clear()
        times.extend(sorted(to_clock(data.get(key))))
    if running:
        running_id, until = data.get("running_id"), data.get("running_until")
        st.running_id = running_id if isinstance(running_id, str) else None
        # No deadline (a damaged row): already passed, so a new leader ends it at once, as before.
        st.running_until = None if st.running_id is None else now - (wall - until) if _number(until) else now
    st.flapping = data.get("flapping") is True
    level = data.get("backoff_level")
    st.backoff_level = level if isinstance(level, int) and not isinstance(level, bool) and level >= 0 else 0
    not_before = data.get("not_before")
    st.not_before = now - (wall - not_before) if _number(not_before) else 0.0
    was_open, st.circuit_open = st.circuit_open, data.get("circuit_open") is True
    opened_at = data.get("circuit_opened_at")
    st.circuit_opened_at = opened_at if st.circuit_open and _number(opened_at) else None
    reason = data.get("circuit_reason")
    st.circuit_reason = reason if st.circuit_open and isinstance(reason, str) else None
    if st.circuit_open and not was_open:
        st.skip_reason = "circuit_open"  # opened by someone else: the opening was their news


def apply_settings(st: pol.RecoveryState, data: dict, wall: float) -> bool:
    """Take the operator's switches into `st`; True when maintenance changed (counting starts again)."""
    maintenance = data.get("maintenance") is True
    until = data.get("maintenance_until")
    until = until if maintenance and _number(until) else None
    if until is not None and wall >= until:
        maintenance, until = False, None  # a window that has ended (policy.maintenance_active says the same)
    changed = (maintenance, until) != (st.maintenance, st.maintenance_until)
    st.maintenance, st.maintenance_until = maintenance, until
    auto = data.get("auto")
    st.auto = auto if isinstance(auto, bool) else None
    if changed:
        st.failures = 0  # the outage before or during maintenance is not the next incident
        st.skip_reason = None
    return changed


def resets_of(data: dict) -> int:
    value = data.get("resets")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
