"""The one check-row type of the history, its column order, and the one way it becomes JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ops.probes import ProbeResult

COLUMNS = ("ts", "service", "status", "latency_ms", "http_status", "error")


def round_latency(value: float | None) -> float | None:
    """What the history keeps: 0.1 ms (the one place latency is rounded for storage)."""
    return None if value is None else round(float(value), 1)


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One stored check of one service."""

    ts: datetime
    service: str
    status: str
    latency_ms: float | None  # as measured (rounded to 0.1 ms), kept even for a failed check
    http_status: int | None
    error: str | None

    @classmethod
    def from_result(cls, ts: datetime, result: ProbeResult) -> CheckRow:
        latency = round_latency(result.latency_ms)
        return cls(ts, result.service, result.status, latency, result.http_status, result.error)

    @property
    def answered_ms(self) -> float | None:
        """The latency views show: none for a failed check (a refused connection "takes" 0.7 ms)."""
        return self.latency_ms if self.error is None else None

    def as_dict(self) -> dict:
        """The API's and the export's shape: latency_ms is null for a failed check."""
        return {
            "ts": self.ts.isoformat(),
            "service": self.service,
            "status": self.status,
            "latency_ms": self.answered_ms,
            "http_status": self.http_status,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One point of a details chart: a check, or a time bucket of several."""

    ts: datetime
    latency_ms: float | None  # mean of the answered checks
    status: str  # the worst status in it (ops/fleet.py's order)
    failed: int  # failed checks in it
    checks: int
    error: str | None  # the last error in it


@dataclass(frozen=True, slots=True)
class LastRun:
    """How one service's raw history ends: what a restart seeds its live state from (ops/seed.py)."""

    last: CheckRow  # its newest check
    failures: int  # failed checks (error not None) in a row at the end
    successes: int  # passed checks in a row at the end
    status_since: datetime  # when the final run of equal statuses began
    last_error: str | None  # the newest error among all its rows


@dataclass(frozen=True, slots=True)
class Tally:
    """One service's raw checks in a window: what ops/figures.py starts its running figures from."""

    counted: int  # checks counted in uptime (not "maintenance")
    passed: int  # of those, the ones without an error
    latencies: Sequence[float] = ()  # answered latencies, ascending (only when asked for)
