"""Rebuild each service's live state from the history, so a restart forgets nothing."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ops.probes import ProbeResult
from ops.status import ServiceState


def _trailing_run(flags: list[bool]) -> int:
    """How many of the last flags are True in a row."""
    count = 0
    for flag in reversed(flags):
        if not flag:
            break
        count += 1
    return count


def state_from_rows(name: str, rows: pd.DataFrame) -> ServiceState:
    """The state after replaying one service's rows (oldest first)."""
    failed = rows["error"].notna().tolist()
    statuses = rows["status"].astype(str).tolist()
    last = rows.iloc[-1]
    # The last change is where the final run of equal statuses began.
    same = _trailing_run([s == statuses[-1] for s in statuses])
    change_at = rows["ts"].iloc[len(statuses) - same]
    errors = rows["error"].dropna()
    latency = None if pd.isna(last["latency_ms"]) else float(last["latency_ms"])
    http_status = None if pd.isna(last["http_status"]) else int(last["http_status"])
    error = None if pd.isna(last["error"]) else str(last["error"])
    result = ProbeResult(name, error is None, latency, http_status, error, last["ts"].to_pydatetime(), statuses[-1])
    return ServiceState(
        status=statuses[-1],
        consecutive_failures=_trailing_run(failed),
        consecutive_successes=_trailing_run([not f for f in failed]),
        last_change=change_at.to_pydatetime(),
        last_error=str(errors.iloc[-1]) if len(errors) else None,
        last_result=result,
    )


def states_from_history(frame: pd.DataFrame, names: Iterable[str]) -> dict[str, ServiceState]:
    """States for the named services that have any history."""
    wanted = set(names)
    frame = frame[frame["service"].isin(wanted)]
    return {str(name): state_from_rows(str(name), rows) for name, rows in frame.groupby("service", observed=True)}
