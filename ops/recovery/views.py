"""How the engine's per-service state reads in the snapshot and on the API (plain dicts)."""

from __future__ import annotations

from ops.recovery import policy as pol
from ops.recovery.records import iso


def view_fields(st: pol.RecoveryState, limits: pol.Limits, now: float, wall: float, auto: bool) -> dict:
    """The fields a snapshot service view gains."""
    return {
        "needs_attention": st.circuit_open,
        "maintenance": pol.maintenance_active(st, wall),
        "maintenance_until": iso(st.maintenance_until),
        "recovering": st.running_id is not None,
        "recovery_attempts": pol.prune(st, now, limits.window_s),
        "flapping": st.flapping,
        "auto_recovery": auto,
    }


def _next_auto(st: pol.RecoveryState, now: float, wall: float, auto: bool) -> str | None:
    """When an automatic attempt may next start; none while the circuit is open or auto is off."""
    if not auto or st.circuit_open or st.not_before <= now:
        return None
    return iso(wall + st.not_before - now)


def status_fields(st: pol.RecoveryState, limits: pol.Limits, now: float, wall: float, auto: bool, action) -> dict:
    """Everything the engine knows about one service, for GET /api/services/<name>/recovery."""
    return {
        **view_fields(st, limits, now, wall, auto),
        "action": None if action is None else action.kind,
        "action_detail": None if action is None else action.describe(),
        "restart_failures": limits.threshold,
        "consecutive_failures": st.failures,
        "current_id": st.running_id,
        "circuit_reason": st.circuit_reason,
        "circuit_opened_at": iso(st.circuit_opened_at),
        "max_attempts": limits.max_attempts,
        "next_backoff_s": pol.backoff_delay(limits, st.backoff_level),
        "failed_attempts": pol.failed_in_window(st, now, limits.window_s),
        "next_auto_after": _next_auto(st, now, wall, auto),
    }
