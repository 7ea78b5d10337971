"""The long-running half of an attempt: run the action, then re-probe until healthy or a deadline."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from config.settings import ServiceSettings
from ops.recovery.actions import OK, ActionContext, ActionResult, RecoveryAction


@dataclass(frozen=True)
class AttemptTimes:
    """What one attempt did and how long each part took (seconds from its start)."""

    result: ActionResult
    action_s: float
    healthy_after: float | None  # None: never verified healthy
    total_s: float


def verify(
    service: ServiceSettings,
    probe_fn: Callable,
    session: requests.Session,
    started: float,
    timeout_s: float,
    interval_s: float,
    stop: threading.Event,
    clock: Callable[[], float],
) -> float | None:
    """Probe now, then every interval_s, until a check passes (seconds since `started`) or timeout_s."""
    deadline = clock() + timeout_s
    while not stop.is_set():
        if probe_fn(service, session, datetime.now(UTC)).ok:
            return clock() - started
        remaining = deadline - clock()
        if remaining <= 0:
            return None
        stop.wait(min(interval_s, remaining))
    return None


def act_and_verify(
    action: RecoveryAction,
    ctx: ActionContext,
    verify_kwargs: dict,
    clock: Callable[[], float],
) -> AttemptTimes:
    """Run the action; if it says it worked, prove it with probes (a restart is not a recovery)."""
    started = clock()
    result = action.execute(ctx)
    action_s = clock() - started
    healthy_after = None
    if result.outcome == OK:
        healthy_after = verify(ctx.service, started=started, clock=clock, **verify_kwargs)
    return AttemptTimes(result, action_s, healthy_after, clock() - started)
