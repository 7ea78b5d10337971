"""The long-running half of an attempt: run the action, then re-check until healthy or a deadline.

Nothing here can hang: the action gets its own timeout plus ACTION_GRACE_S, every verification
check is cut to the time left, so an attempt ends within action timeout + verify timeout + grace.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from config.settings import ServiceSettings
from ops.recovery.actions import OK, TIMED_OUT, ActionContext, ActionResult, RecoveryAction

# Beyond the action's own timeout: a command gets SIGTERM, 2 s, then SIGKILL of its group.
ACTION_GRACE_S = 5.0


@dataclass(frozen=True)
class AttemptTimes:
    """What one attempt did and how long each part took (seconds from its start)."""

    result: ActionResult
    action_s: float
    healthy_after: float | None  # None: never verified healthy
    total_s: float


def run_bounded(action: RecoveryAction, ctx: ActionContext) -> ActionResult:
    """`action.execute`, given up on (and cancelled) if it outlives its timeout + grace."""
    box: list[ActionResult] = []
    worker = threading.Thread(
        target=lambda: box.append(action.execute(ctx)), name=f"action-{ctx.service.name}", daemon=True
    )
    worker.start()
    worker.join(action.timeout_s + ACTION_GRACE_S)
    if box:
        return box[0]
    action.cancel()
    return ActionResult(TIMED_OUT, error=f"the {action.kind} action did not finish within {action.timeout_s:g}s")


def verify(
    service: ServiceSettings,
    check: Callable,
    started: float,
    timeout_s: float,
    interval_s: float,
    stop: threading.Event,
    clock: Callable[[], float],
) -> float | None:
    """Run the service's own check until it passes `success_threshold` times in a row.

    Returns seconds since `started` at the last of those passes, or None when timeout_s ran out.
    Each check is cut to the time left, so verification never outlasts timeout_s.
    """
    deadline = clock() + timeout_s
    passes = 0
    while not stop.is_set():
        left = deadline - clock()
        if left <= 0:
            return None
        if check(service, datetime.now(UTC), left).ok:
            passes += 1
            if passes >= service.success_threshold:
                return clock() - started
        else:
            passes = 0
        left = deadline - clock()
        if left <= 0:
            return None
        stop.wait(min(interval_s, left))
    return None


def act_and_verify(
    action: RecoveryAction,
    ctx: ActionContext,
    verify_kwargs: dict,
    clock: Callable[[], float],
) -> AttemptTimes:
    """Run the action; if it says it worked, prove it with checks (a restart is not a recovery)."""
    started = clock()
    result = run_bounded(action, ctx)
    action_s = clock() - started
    healthy_after = None
    if result.outcome == OK:
        healthy_after = verify(ctx.service, started=started, clock=clock, **verify_kwargs)
    return AttemptTimes(result, action_s, healthy_after, clock() - started)
