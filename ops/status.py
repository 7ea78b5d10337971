"""Per-service status from consecutive results: thresholds so one blip is not an outage."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from config.settings import ServiceSettings
from ops.probes import ProbeResult

UP, DEGRADED, DOWN, PENDING = "up", "degraded", "down", "pending"
HEALTHY = (UP, DEGRADED)


@dataclass
class ServiceState:
    """What we know of one service between checks."""

    status: str = PENDING
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_change: datetime | None = None
    last_error: str | None = None
    last_result: ProbeResult | None = None


def next_status(service: ServiceSettings, state: ServiceState, result: ProbeResult) -> str:
    """The status after `result`, given the counters already updated for it."""
    if not result.ok:
        if state.consecutive_failures >= service.failure_threshold:
            return DOWN
        # Below the threshold we do not know yet: a blip is neither up nor down.
        return DOWN if state.status == DOWN else PENDING
    if state.status == DOWN and state.consecutive_successes < service.success_threshold:
        return DOWN
    slow = service.degraded_latency_ms is not None and (result.latency_ms or 0) > service.degraded_latency_ms
    return DEGRADED if slow else UP


def apply_result(service: ServiceSettings, state: ServiceState, result: ProbeResult) -> ProbeResult:
    """Update `state` with one check and return the result stamped with its status."""
    if result.ok:
        state.consecutive_failures = 0
        state.consecutive_successes += 1
    else:
        state.consecutive_failures += 1
        state.consecutive_successes = 0
        state.last_error = result.error
    status = next_status(service, state, result)
    if status != state.status:
        state.last_change = result.ts
        state.status = status
    stamped = dataclasses.replace(result, status=status)
    state.last_result = stamped
    return stamped


def overall_status(statuses: list[str]) -> str:
    """One word for the fleet: down if any is down, degraded if any is degraded or pending."""
    if not statuses:
        return PENDING
    if DOWN in statuses:
        return DOWN
    if all(s == PENDING for s in statuses):
        return PENDING
    if DEGRADED in statuses or PENDING in statuses:
        return DEGRADED
    return UP
