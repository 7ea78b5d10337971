"""One check per kind (http, tcp), each returning the same frozen ProbeResult."""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from datetime import datetime

import requests
from requests.adapters import HTTPAdapter

from config.settings import ServiceSettings

log = logging.getLogger(__name__)

# Enough of a body to find `expect_body` in; never read an endless stream (SSE) to its end.
MAX_BODY_BYTES = 64 * 1024


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


def make_session(pool_size: int) -> requests.Session:
    """The one pooled HTTP session every outbound probe goes through."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "mission-control-probe/1"
    session.trust_env = False  # a proxy from the environment must not sit between us and loopback
    return session


def _elapsed_ms(start: float) -> float:
    return (time.monotonic() - start) * 1000.0


def _describe(exc: Exception, timeout_s: float) -> str:
    """An operator-readable reason for a failed connection."""
    text = str(exc)
    if isinstance(exc, (requests.Timeout, socket.timeout, TimeoutError)):
        return f"timeout after {timeout_s:g}s"
    if isinstance(exc, ConnectionRefusedError) or "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if isinstance(exc, socket.gaierror) or "Name or service not known" in text:
        return "host not found"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return f"{type(exc).__name__}: {text}"[:200]


def _read_body(response: requests.Response, deadline: float) -> bytes:
    """Read at most MAX_BODY_BYTES before `deadline`; a slow drip cannot outlast the timeout."""
    body = bytearray()
    for chunk in response.iter_content(chunk_size=8192):
        body += chunk
        if len(body) >= MAX_BODY_BYTES or time.monotonic() > deadline:
            break
    return bytes(body)


def _status_ok(service: ServiceSettings, code: int) -> bool:
    return any(r.accepts(code) for r in service.expected_status)


def http_probe(service: ServiceSettings, session: requests.Session, ts: datetime) -> ProbeResult:
    """GET (or HEAD/POST) the service's URL and check status code and body."""
    start = time.monotonic()
    deadline = start + service.timeout_s
    try:
        with session.request(
            service.method,
            service.target,
            timeout=(service.timeout_s, service.timeout_s),
            stream=True,
            allow_redirects=False,
        ) as response:
            body = _read_body(response, deadline) if service.expect_body else b""
            code = response.status_code
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check, never a crash
        return ProbeResult(service.name, False, _elapsed_ms(start), None, _describe(exc, service.timeout_s), ts)
    latency = _elapsed_ms(start)
    if time.monotonic() > deadline:
        return ProbeResult(service.name, False, latency, code, f"timeout after {service.timeout_s:g}s", ts)
    if not _status_ok(service, code):
        return ProbeResult(service.name, False, latency, code, f"HTTP {code}", ts)
    if service.expect_body and service.expect_body.encode() not in body:
        error = f"body mismatch: {service.expect_body!r} not found"
        return ProbeResult(service.name, False, latency, code, error, ts)
    return ProbeResult(service.name, True, latency, code, None, ts)


def tcp_probe(service: ServiceSettings, ts: datetime) -> ProbeResult:
    """Open (and close) a TCP connection to host:port."""
    start = time.monotonic()
    try:
        with socket.create_connection((service.host, service.port), timeout=service.timeout_s):
            pass
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        return ProbeResult(service.name, False, _elapsed_ms(start), None, _describe(exc, service.timeout_s), ts)
    return ProbeResult(service.name, True, _elapsed_ms(start), None, None, ts)


def probe(service: ServiceSettings, session: requests.Session, ts: datetime) -> ProbeResult:
    """Run the check that fits the service's type; never raises."""
    try:
        if service.type == "tcp":
            return tcp_probe(service, ts)
        return http_probe(service, session, ts)
    except Exception as exc:  # noqa: BLE001 - a bug in one probe must not kill the sweep
        log.exception("probe of %s crashed", service.name)
        return ProbeResult(service.name, False, None, None, f"probe error: {type(exc).__name__}", ts)
