"""The recovery policy as plain state and pure functions, so every rule is testable without threads.

One outage is one incident: the failure counter resets on a success and after every attempt, so
the next automatic attempt needs a fresh run of `restart_failures` failed checks *and* the backoff
to have passed. Attempts are counted in a sliding window. The circuit opens when `max_attempts`
attempts in the window did *not* bring the service back: a person must act. Attempts that did
bring it back never open it; `max_attempts` of those in the window mean the service is flapping,
which is flagged and logged while recovery goes on, with the backoff still growing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

WAIT, SKIP, OPEN, GO = "wait", "skip", "open", "go"


@dataclass
class RecoveryState:
    """What the engine remembers about one service between checks."""

    failures: int = 0  # consecutive failed checks since the last success or attempt
    attempts: deque[float] = field(default_factory=deque)  # clock() of each attempt in the window
    failed: deque[float] = field(default_factory=deque)  # ... of each that did not bring it back
    recovered: deque[float] = field(default_factory=deque)  # ... of each that did
    flapping: bool = False  # max_attempts successful recoveries within the window
    backoff_level: int = 0  # doublings of the cooldown so far
    not_before: float = 0.0  # clock(): no automatic attempt before this
    circuit_open: bool = False
    circuit_opened_at: float | None = None  # wall time, for the views
    circuit_reason: str | None = None
    running_id: str | None = None  # the entry id of the attempt in flight
    running_until: float | None = None  # clock(): by then that attempt has ended, wherever it runs
    healthy_since: float | None = None  # clock() of the first healthy check of the current run
    maintenance: bool = False
    maintenance_until: float | None = None  # wall time; None = until switched off
    auto: bool | None = None  # runtime switch; None = as configured
    skip_reason: str | None = None  # the skip already logged for this incident (logged once)


@dataclass(frozen=True)
class Limits:
    """The policy numbers that apply to one service."""

    threshold: int
    max_attempts: int
    window_s: float
    cooldown_s: float
    backoff_max_s: float
    healthy_reset_s: float


def backoff_delay(limits: Limits, level: int) -> float:
    """Cooldown doubled `level` times, capped: 30, 60, 120, 240, 300, 300 ... by default."""
    return min(limits.backoff_max_s, limits.cooldown_s * (2 ** min(level, 32)))


def prune(state: RecoveryState, now: float, window_s: float) -> int:
    """Forget attempts older than the window; return how many remain."""
    for times in (state.attempts, state.failed, state.recovered):
        while times and now - times[0] >= window_s:
            times.popleft()
    return len(state.attempts)


def failed_in_window(state: RecoveryState, now: float, window_s: float) -> int:
    prune(state, now, window_s)
    return len(state.failed)


def maintenance_active(state: RecoveryState, wall_now: float) -> bool:
    """Whether maintenance is on; a timed maintenance switches itself off when it ends."""
    if state.maintenance and state.maintenance_until is not None and wall_now >= state.maintenance_until:
        state.maintenance, state.maintenance_until = False, None
        state.failures = 0  # downtime during maintenance must not count towards a restart
    return state.maintenance


def on_success(state: RecoveryState, now: float, healthy: bool, limits: Limits) -> bool:
    """A passing check; `healthy` = the monitor calls the service up. Returns True if the circuit closed."""
    state.failures = 0
    state.skip_reason = None
    if not healthy:
        return False
    if state.healthy_since is None:
        state.healthy_since = now
    closed = state.circuit_open
    state.circuit_open, state.circuit_opened_at, state.circuit_reason = False, None, None
    if now - state.healthy_since >= limits.healthy_reset_s:
        forget_attempts(state)  # healthy for a while: the next outage starts from the first step
    return closed


def on_failure(state: RecoveryState, in_maintenance: bool) -> None:
    """A failing check: count it unless the service is under maintenance."""
    state.healthy_since = None
    state.failures = 0 if in_maintenance else state.failures + 1


def auto_decision(state: RecoveryState, limits: Limits, now: float, auto_on: bool, has_action: bool):
    """What to do after a failed check: (WAIT|SKIP|OPEN|GO, reason code, operator text)."""
    if state.failures < limits.threshold or state.running_id is not None or state.maintenance:
        return WAIT, None, None
    if not auto_on:
        return SKIP, "auto_off", "automatic recovery is switched off"
    if not has_action:
        return SKIP, "no_action", "no recovery action is configured"
    if state.circuit_open:
        return SKIP, "circuit_open", "circuit open: needs attention"
    if now < state.not_before:
        return SKIP, "backoff", f"backoff: next attempt allowed in {state.not_before - now:.0f}s"
    if failed_in_window(state, now, limits.window_s) >= limits.max_attempts:
        text = f"{limits.max_attempts} failed attempts within {limits.window_s:g}s: circuit open, needs attention"
        return OPEN, "attempt_cap", text
    return GO, None, None


def begin_attempt(state: RecoveryState, now: float, entry_id: str, limits: Limits, until: float | None = None) -> int:
    """Mark an attempt as running (until its deadline); returns its number within the window."""
    state.running_id, state.running_until = entry_id, until
    state.attempts.append(now)
    return prune(state, now, limits.window_s)


FLAPPING, CIRCUIT_OPENED = "flapping", "circuit_opened"


def end_attempt(
    state: RecoveryState, now: float, wall_now: float, recovered: bool, limits: Limits, interrupted: bool = False
) -> str | None:
    """After an attempt: reset the counter, push the backoff, count the outcome.

    Returns CIRCUIT_OPENED when this failure opened the circuit, FLAPPING when this success made
    the service flapping, else None. An `interrupted` attempt (the dashboard stopped, or it never
    started) counts neither way: it says nothing about the service.
    """
    state.running_id = state.running_until = None
    state.failures = 0
    state.skip_reason = None
    if interrupted:
        return None
    state.not_before = now + backoff_delay(limits, state.backoff_level)
    state.backoff_level += 1
    (state.recovered if recovered else state.failed).append(now)
    prune(state, now, limits.window_s)
    if recovered:
        was, state.flapping = state.flapping, len(state.recovered) >= limits.max_attempts
        return FLAPPING if state.flapping and not was else None
    if len(state.failed) < limits.max_attempts:
        return None
    open_circuit(state, wall_now, f"still down after {len(state.failed)} attempts within {limits.window_s:g}s")
    return CIRCUIT_OPENED


def open_circuit(state: RecoveryState, wall_now: float, reason: str) -> None:
    state.circuit_open, state.circuit_opened_at, state.circuit_reason = True, wall_now, reason
    state.skip_reason = "circuit_open"  # the opening is news; the next skips are not


def reset(state: RecoveryState) -> None:
    """The operator's reset: circuit closed, attempts and backoff forgotten."""
    state.circuit_open, state.circuit_opened_at, state.circuit_reason = False, None, None
    forget_attempts(state)
    state.not_before = 0.0
    state.failures = 0
    state.skip_reason = None


def forget_attempts(state: RecoveryState) -> None:
    for times in (state.attempts, state.failed, state.recovered):
        times.clear()
    state.backoff_level = 0
    state.flapping = False
