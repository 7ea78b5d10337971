"""Recovery-log entries and the small state file that keeps maintenance and open circuits across restarts."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

from ops.recovery.actions import OK, TIMED_OUT
from ops.recovery.policy import RecoveryState
from ops.recovery.worker import AttemptTimes

log = logging.getLogger(__name__)

RECOVERED, STILL_DOWN, ACTION_FAILED, TIMED_OUT_OUTCOME, SKIPPED, RUNNING = (
    "recovered",
    "still_down",
    "action_failed",
    "timed_out",
    "skipped",
    "running",
)
INTERRUPTED = "interrupted"  # left "running" by a process that was killed mid-attempt


def iso(wall: float | None) -> str | None:
    return None if wall is None else datetime.fromtimestamp(wall, UTC).isoformat()


def new_entry(service: str, trigger: str, action: str, attempt: int, wall: float, forced: bool = False) -> dict:
    """An attempt that has just started (outcome "running" until it ends)."""
    entry = {
        "id": uuid.uuid4().hex[:12],
        "time": iso(wall),
        "service": service,
        "trigger": trigger,
        "action": action,
        "attempt": attempt,
        "outcome": RUNNING,
        "duration_s": None,
    }
    if forced:
        entry["forced"] = True
    return entry


def skipped_entry(service: str, action: str, attempt: int, wall: float, code: str, reason: str) -> dict:
    """An automatic attempt that was due but did not run, and why."""
    entry = new_entry(service, "auto", action, attempt, wall)
    entry.update(outcome=SKIPPED, reason=reason, reason_code=code, duration_s=0.0)
    return entry


def finished_entry(entry: dict, times: AttemptTimes, wall: float) -> dict:
    """The entry's final state: outcome, durations and, where there are some, exit code and output."""
    done = dict(entry)
    result, healthy_after = times.result, times.healthy_after
    if result.outcome == OK:
        done["outcome"] = RECOVERED if healthy_after is not None else STILL_DOWN
    else:
        done["outcome"] = TIMED_OUT_OUTCOME if result.outcome == TIMED_OUT else ACTION_FAILED
    if healthy_after is not None:
        done["time_to_healthy_s"] = round(healthy_after, 3)
    done.update(
        duration_s=round(times.total_s, 3),
        action_s=round(times.action_s, 3),
        finished=iso(wall),
        exit_code=result.exit_code,
        output_tail=result.output_tail,
        error=result.error,
        **result.extra,
    )
    return done


# -- the state file --------------------------------------------------------------------------------
LATEST_WALL = 253402214400.0  # 9999-12-31: later wall times overflow datetime when a view shows them


def save_state(path: Path | None, states: dict[str, RecoveryState]) -> None:
    """Write maintenance and open circuits (temp file + os.replace: never half a file)."""
    if path is None:
        return
    data = {
        name: {
            "maintenance": s.maintenance,
            "maintenance_until": s.maintenance_until,
            "circuit_open": s.circuit_open,
            "circuit_opened_at": s.circuit_opened_at,
            "circuit_reason": s.circuit_reason,
        }
        for name, s in states.items()
        if s.maintenance or s.circuit_open
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"services": data}, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a full disk: the state lives on in memory, the last saved file stays whole
        tmp.unlink(missing_ok=True)
        log.warning("%s: cannot save recovery state: %s", path, exc)


def load_state(path: Path | None, states: dict[str, RecoveryState]) -> None:
    """Restore maintenance and open circuits for the services still configured.

    A hand-damaged file never stops the start: bad fields are ignored with a warning, good services
    kept, and the original is copied to `<name>.corrupt-<ts>` before the next save overwrites it.
    """
    if path is None or not path.exists():
        return
    try:
        services = json.loads(path.read_text(encoding="utf-8"))["services"]
        if not isinstance(services, dict):
            raise TypeError("services is not an object")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        _set_aside(path, [f"unreadable ({type(exc).__name__}: {str(exc)[:200]})"])
        return
    problems: list[str] = []
    for name, saved in services.items():
        state = states.get(name)
        if state is None:
            continue
        if not isinstance(saved, dict):
            problems.append(f"{name}: not an object")
            continue
        problems += [f"{name}.{p}" for p in _restore(state, saved)]
    if problems:
        _set_aside(path, problems)


def _restore(state: RecoveryState, saved: dict) -> list[str]:
    """Copy the well-typed fields into `state`; return the names of the ignored ones."""
    bad = []
    fields = {
        "maintenance": (_flag, False),
        "maintenance_until": (_wall_time, None),
        "circuit_open": (_flag, False),
        "circuit_opened_at": (_wall_time, None),
        "circuit_reason": (_text, None),
    }
    for key, (valid, default) in fields.items():
        value = saved.get(key, default)
        if not valid(value):
            bad.append(f"{key}={str(value)[:40]}")
            value = default  # e.g. maintenance kept on, but until switched off by hand
        setattr(state, key, value)
    if state.circuit_open:
        state.skip_reason = "circuit_open"
    return bad


def _flag(value) -> bool:
    return isinstance(value, bool)


def _text(value) -> bool:
    return value is None or isinstance(value, str)


def _wall_time(value) -> bool:
    """None, or seconds since the epoch that a datetime can show ("soon" and 1e308 cannot)."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value is None or (is_number and 0 <= value <= LATEST_WALL)


def _set_aside(path: Path, problems: list[str]) -> None:
    aside = path.with_name(f"{path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")
    try:
        shutil.copy2(path, aside)
        kept = f"original copied to {aside}"
    except OSError as exc:
        aside.unlink(missing_ok=True)
        kept = f"no copy kept ({exc})"
    log.warning("%s: recovery state ignored in part: %s; %s", path, ", ".join(problems[:10]), kept)
