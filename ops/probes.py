"""One check per kind (http, tcp, postgres), each returning the same frozen ProbeResult.

Every check opens a new connection and ends by its own deadline (timeout_s from when it started),
DNS, TLS and a dripping server included. HTTP and TCP checks run on the probe loop
(ops/probe_loop.py, ops/probe_net.py) under `asyncio.timeout_at`; the postgres check blocks (psycopg)
and runs on the caller's thread under its own deadline (ops/probe_postgres.py).
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import socket
import ssl
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

from config.settings import ServiceSettings
from ops import probe_net
from ops.check_result import ProbeResult
from ops.deadline import DeadlinePassed, Watchdog
from ops.probe_loop import ProbeLoop, ProbeLoopClosed
from ops.probe_postgres import postgres_probe

log = logging.getLogger(__name__)

# Enough of a body to find `expect_body` in; never read an endless stream (SSE) to its end.
MAX_BODY_BYTES = 64 * 1024


def timeout_text(timeout_s: float) -> str:
    return f"timeout after {timeout_s:g}s"


STOPPED = "not finished: the dashboard is stopping"
# How long past its own deadline a blocking caller waits for a check on the loop before it gives
# up on it (the check ends by its deadline; this only guards against a loop that died).
_LOOP_GRACE_S = 5.0


def describe(exc: BaseException, timeout_s: float) -> str:
    """An operator-readable reason for a failed connection."""
    text = str(exc)
    if isinstance(exc, ProbeLoopClosed):
        return STOPPED
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


async def http_probe(service: ServiceSettings, ts: datetime, timeout_s: float) -> ProbeResult:
    """GET (or HEAD/POST) the service's URL on a new connection; check status code and body."""
    start = time.monotonic()
    wanted = service.expect_body.encode() if service.expect_body else None
    try:
        async with asyncio.timeout_at(start + timeout_s):  # the loop's clock is time.monotonic()
            reply = await probe_net.fetch(
                service.target, method=service.method, read_limit=MAX_BODY_BYTES if wanted else 0, enough=wanted
            )
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check, never a crash
        return ProbeResult(service.name, False, _elapsed_ms(start), None, describe(exc, timeout_s), ts)
    latency, code = _elapsed_ms(start), reply.status
    if latency > timeout_s * 1000.0:  # answered as the deadline passed: a timeout all the same
        return ProbeResult(service.name, False, latency, code, timeout_text(timeout_s), ts)
    if not any(r.accepts(code) for r in service.expected_status):
        return ProbeResult(service.name, False, latency, code, f"HTTP {code}", ts)
    if wanted and wanted not in reply.body:
        error = f"body mismatch: {service.expect_body!r} not found"
        return ProbeResult(service.name, False, latency, code, error, ts)
    return ProbeResult(service.name, True, latency, code, None, ts)


async def tcp_probe(service: ServiceSettings, ts: datetime, timeout_s: float) -> ProbeResult:
    """Open (and close) a new TCP connection to host:port."""
    start = time.monotonic()
    try:
        async with asyncio.timeout_at(start + timeout_s):
            (await probe_net.connect(service.host, service.port)).close()
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        return ProbeResult(service.name, False, _elapsed_ms(start), None, describe(exc, timeout_s), ts)
    return ProbeResult(service.name, True, _elapsed_ms(start), None, None, ts)


def _probe_of(service: ServiceSettings) -> Callable[[ServiceSettings, datetime, float], Coroutine]:
    return tcp_probe if service.type == "tcp" else http_probe


def _failed(service: ServiceSettings, ts: datetime, exc: BaseException, timeout_s: float) -> ProbeResult:
    if not isinstance(exc, (ProbeLoopClosed, FutureTimeout)):
        log.error("probe of %s crashed", service.name, exc_info=exc)
        return ProbeResult(service.name, False, None, None, f"probe error: {type(exc).__name__}", ts)
    return ProbeResult(service.name, False, None, None, describe(exc, timeout_s), ts)


class Prober:
    """Where every outbound check goes: the probe loop for HTTP and TCP, the caller's thread for
    postgres; owns the watchdog that bounds recovery webhooks (ops/http_fetch.py)."""

    def __init__(self) -> None:
        self.watchdog = Watchdog()
        self.loop = ProbeLoop()

    @staticmethod
    def blocks(service: ServiceSettings) -> bool:
        """True for a check that holds its thread (postgres); the others run on the probe loop."""
        return service.type == "postgres"

    def check(self, service: ServiceSettings, ts: datetime | None = None, budget_s: float | None = None) -> ProbeResult:
        """Run the check that fits the service's type within min(timeout_s, budget_s); never raises."""
        ts = ts or datetime.now(UTC)
        timeout_s = service.timeout_s if budget_s is None else max(0.001, min(service.timeout_s, budget_s))
        try:
            if self.blocks(service):
                return postgres_probe(service, ts, timeout_s)
            future = self.loop.submit(_probe_of(service)(service, ts, timeout_s))
            return future.result(timeout_s + _LOOP_GRACE_S)
        except BaseException as exc:  # noqa: BLE001 - a check never raises to its caller
            return _failed(service, ts, exc, timeout_s)

    def check_all_soon(self, services: list, ts: datetime, deliver: Callable[[ProbeResult], None]) -> None:
        """HTTP and TCP checks started together on the probe loop (one wake-up for a whole batch);
        `deliver(result)` is called on the loop's thread as each ends, also when close() ends it."""

        def delivering(service: ServiceSettings) -> Callable[[asyncio.Task], None]:
            def ended(task: asyncio.Task) -> None:
                if task.cancelled():  # close(): the dashboard is stopping
                    deliver(_failed(service, ts, ProbeLoopClosed(), service.timeout_s))
                elif task.exception() is not None:  # the checks catch their own; a bug still gets a result
                    deliver(_failed(service, ts, task.exception(), service.timeout_s))  # type: ignore[arg-type]
                else:
                    deliver(task.result())

            return ended

        try:
            self.loop.spawn_all([(_probe_of(s)(s, ts, s.timeout_s), delivering(s)) for s in services])
        except ProbeLoopClosed as exc:
            for service in services:
                deliver(_failed(service, ts, exc, service.timeout_s))

    def close(self) -> None:
        """End every check in flight (a dashboard stopping mid-sweep) and refuse new ones."""
        self.loop.close()
        self.watchdog.close()
