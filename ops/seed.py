"""Rebuild each service's live state from the history, so a restart forgets nothing."""

from __future__ import annotations

from collections.abc import Iterable

from ops.history.protocol import HistoryStore
from ops.history.rows import LastRun
from ops.probes import ProbeResult
from ops.status import ServiceState


def state_from_run(name: str, run: LastRun) -> ServiceState:
    """The state after replaying one service's rows, from how they end."""
    last = run.last
    result = ProbeResult(name, last.error is None, last.latency_ms, last.http_status, last.error, last.ts, last.status)
    return ServiceState(
        status=last.status,
        consecutive_failures=run.failures,
        consecutive_successes=run.successes,
        last_change=run.status_since,
        last_error=run.last_error,
        last_result=result,
    )


def states_from_history(store: HistoryStore, names: Iterable[str]) -> dict[str, ServiceState]:
    """States for the named services that have any history."""
    return {name: state_from_run(name, run) for name, run in store.last_runs(names).items()}
