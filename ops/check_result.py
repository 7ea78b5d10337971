"""The record every check kind returns (ops/probes.py runs the checks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ProbeResult:
    """What one check of one service found. `status` is filled in by the status tracker."""

    service: str
    ok: bool
    latency_ms: float | None
    http_status: int | None
    error: str | None
    ts: datetime
    status: str = "pending"

    def as_dict(self) -> dict:
        return {
            "service": self.service,
            "ok": self.ok,
            "status": self.status,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "http_status": self.http_status,
            "error": self.error,
            "ts": self.ts.isoformat(),
        }
