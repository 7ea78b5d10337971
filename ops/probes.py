"""One check per kind (http, tcp, postgres), each returning the same frozen ProbeResult.

Every check opens a new connection and ends by its own deadline (timeout_s from when it started),
DNS, TLS and a dripping server included: see ops/deadline.py.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from datetime import UTC, datetime

from config.settings import ServiceSettings
from ops.check_result import ProbeResult
from ops.deadline import DeadlinePassed, Watchdog, open_connection
from ops.http_fetch import fetch
from ops.probe_postgres import postgres_probe

log = logging.getLogger(__name__)

# Enough of a body to find `expect_body` in; never read an endless stream (SSE) to its end.
MAX_BODY_BYTES = 64 * 1024


def timeout_text(timeout_s: float) -> str:
    return f"timeout after {timeout_s:g}s"


def describe(exc: BaseException, timeout_s: float) -> str:
    """An operator-readable reason for a failed connection."""
    text = str(exc)
    if isinstance(exc, (DeadlinePassed, socket.timeout, TimeoutError)):
        return timeout_text(timeout_s)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {getattr(exc, 'reason', None) or text}"[:200]
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(exc, http.client.BadStatusLine):
        return "not an HTTP answer"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "connection reset"
    if isinstance(exc, OSError) and exc.strerror:
        return f"connection failed: {exc.strerror}"[:200]
    return f"{type(exc).__name__}: {text}"[:200]


def _elapsed_ms(start: float) -> float:
    return (time.monotonic() - start) * 1000.0


def http_probe(service: ServiceSettings, ts: datetime, timeout_s: float, watchdog: Watchdog) -> ProbeResult:
    """GET (or HEAD/POST) the service's URL on a new connection; check status code and body."""
    start = time.monotonic()
    deadline = start + timeout_s
    wanted = service.expect_body.encode() if service.expect_body else None
    try:
        reply = fetch(
            service.target,
            deadline,
            watchdog,
            method=service.method,
            read_limit=MAX_BODY_BYTES if wanted else 0,
            enough=wanted,
        )
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check, never a crash
        reason = timeout_text(timeout_s) if time.monotonic() >= deadline else describe(exc, timeout_s)
        return ProbeResult(service.name, False, _elapsed_ms(start), None, reason, ts)
    latency, code = _elapsed_ms(start), reply.status
    if time.monotonic() > deadline:
        return ProbeResult(service.name, False, latency, code, timeout_text(timeout_s), ts)
    if not any(r.accepts(code) for r in service.expected_status):
        return ProbeResult(service.name, False, latency, code, f"HTTP {code}", ts)
    if wanted and wanted not in reply.body:
        error = f"body mismatch: {service.expect_body!r} not found"
        return ProbeResult(service.name, False, latency, code, error, ts)
    return ProbeResult(service.name, True, latency, code, None, ts)


def tcp_probe(service: ServiceSettings, ts: datetime, timeout_s: float) -> ProbeResult:
    """Open (and close) a new TCP connection to host:port."""
    start = time.monotonic()
    try:
        open_connection(service.host, service.port, start + timeout_s).close()
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        return ProbeResult(service.name, False, _elapsed_ms(start), None, describe(exc, timeout_s), ts)
    return ProbeResult(service.name, True, _elapsed_ms(start), None, None, ts)


class Prober:
    """Where every outbound check goes; owns the watchdog that enforces the checks' deadlines."""

    def __init__(self) -> None:
        self.watchdog = Watchdog()

    def check(self, service: ServiceSettings, ts: datetime | None = None, budget_s: float | None = None) -> ProbeResult:
        """Run the check that fits the service's type within min(timeout_s, budget_s); never raises."""
        ts = ts or datetime.now(UTC)
        timeout_s = service.timeout_s if budget_s is None else max(0.001, min(service.timeout_s, budget_s))
        try:
            if service.type == "tcp":
                return tcp_probe(service, ts, timeout_s)
            if service.type == "postgres":
                return postgres_probe(service, ts, timeout_s)
            return http_probe(service, ts, timeout_s, self.watchdog)
        except Exception as exc:  # noqa: BLE001 - a bug in one probe must not kill the sweep
            log.exception("probe of %s crashed", service.name)
            return ProbeResult(service.name, False, None, None, f"probe error: {type(exc).__name__}", ts)

    def close(self) -> None:
        self.watchdog.close()
