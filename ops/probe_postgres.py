"""The postgres check: log in with the DSN from the environment and run `SELECT 1`.

A TCP connect only proves that something listens on the port: a PostgreSQL that is starting up,
shutting down, frozen, out of connection slots or rejecting our login still accepts the TCP
connection. This check passes only when a real query answers, within the service's timeout_s.

The DSN holds the password, so no text that could contain it leaves this module unscrubbed: every
error is either a fixed phrase or exception text passed through `scrub()`.
"""

from __future__ import annotations

import math
import os
import re
import select
import time
from datetime import datetime
from urllib.parse import quote

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from config.settings import ServiceSettings
from ops.check_result import ProbeResult
from ops.deadline import DeadlinePassed, resolve

AUTH = "authentication rejected (pg_hba.conf / password)"
STARTING = "starting up (not accepting connections yet)"
# Substrings of libpq/server messages (lower-cased) and what the operator reads instead.
REASONS = (
    ("too many clients", "too many clients"),
    ("remaining connection slots are reserved", "too many clients"),
    ("password authentication failed", AUTH),
    ("pg_hba.conf", AUTH),
    ("authentication failed", AUTH),
    ("no password supplied", "no password in the DSN (the server asks for one)"),
    ("is shutting down", "shutting down"),
    ("due to administrator command", "shutting down"),
    ("is starting up", STARTING),
    ("not yet accepting connections", STARTING),
    ("is not accepting connections", STARTING),
    ("in recovery mode", "in crash recovery (not accepting connections yet)"),
    ("connection refused", "connection refused"),
    ("failed to resolve host", "host not found"),
    ("could not translate host name", "host not found"),
    ("server closed the connection unexpectedly", "server closed the connection"),
    ("no route to host", "no route to host"),
    ("network is unreachable", "network unreachable"),
)
TIMEOUT_MARKERS = ("timeout expired", "statement timeout")
MISSING_RE = re.compile(r'\b(database|role) "[^"]*" does not exist')
URL_USERINFO_RE = re.compile(r"(?i)(postgres(?:ql)?://)[^@\s/]*@")
PASSWORD_KV_RE = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")
PREFIX_RE = re.compile(r"^(connection failed: )?(connection to server at .*?failed: )?((FATAL|ERROR):\s*)?")


class _Failed(Exception):
    """A check failure whose message is already the final reason (operator-readable, no secrets)."""


def scrub(text: str, secrets: list[str]) -> str:
    """`text` without any of `secrets`, URL credentials or password=... pairs."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    text = URL_USERINFO_RE.sub(r"\1***@", text)
    return PASSWORD_KV_RE.sub(r"\1***", text)


def describe(text: str, timeout_s: float) -> str:
    """A short reason for a failed connection or query (`text` must be scrubbed already)."""
    lower = text.lower()
    if any(marker in lower for marker in TIMEOUT_MARKERS):
        return f"timeout after {timeout_s:g}s"
    for needle, reason in REASONS:
        if needle in lower:
            return reason
    missing = MISSING_RE.search(text)
    if missing:
        return f"{missing[1]} does not exist"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return PREFIX_RE.sub("", first)[:200] or "connection failed"


def connection_params(service: ServiceSettings, dsn: str, timeout_s: float) -> dict:
    """libpq parameters: the DSN's credentials and database, our host/port and time limits."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - its text may quote the DSN, so it is not used
        raise _Failed(f"{service.dsn_env} is not a valid PostgreSQL connection string") from None
    params.pop("hostaddr", None)  # the config's host says where the monitor reaches the server
    options = str(params.get("options") or "")
    timeout_ms = max(1, int(timeout_s * 1000))
    params.update(
        host=service.host,
        port=str(service.port),
        # A fence only: connect_within enforces timeout_s itself (libpq counts whole seconds, 2 at least).
        connect_timeout=str(max(2, math.ceil(timeout_s))),
        options=f"{options} -c statement_timeout={timeout_ms}".strip(),
    )
    params.setdefault("application_name", "mission-control")
    return params


def secrets_of(dsn: str, params: dict | None) -> list[str]:
    """What must never be shown: the DSN, its password (plain and URL-encoded), $PGPASSWORD."""
    password = str((params or {}).get("password") or "")
    return [dsn, password, quote(password, safe=""), os.environ.get("PGPASSWORD", "")]


def select_one(pgconn: pq.PGconn, deadline: float) -> None:
    """Run SELECT 1 without blocking past `deadline` (a frozen server never ends a blocking read)."""
    pgconn.send_query(b"SELECT 1")
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timeout expired")
        select.select([pgconn.socket], [], [], remaining)
    results = []
    while (result := pgconn.get_result()) is not None:  # not busy: none of these calls blocks
        results.append(result)
    if not results or results[0].status != pq.ExecStatus.TUPLES_OK:
        text = results[0].error_message.decode("utf-8", "replace") if results else "no result"
        raise psycopg.OperationalError(text)  # worded and scrubbed like a connect failure
    if results[0].get_value(0, 0) != b"1":
        raise _Failed("SELECT 1 did not return 1")


def with_address(params: dict, deadline: float) -> dict:
    """The parameters with `hostaddr` looked up within the deadline (libpq's own lookup has none)."""
    host = params["host"]
    if host.startswith("/"):  # a unix socket directory: nothing to look up
        return params
    try:
        addresses = resolve(host, int(params["port"]), deadline)
    except DeadlinePassed:
        raise _Failed("timeout expired") from None
    except OSError:
        raise _Failed("could not translate host name") from None
    # Every address, in order (libpq tries the next when one refuses): "localhost" is often ::1
    # first, and a server listening on 127.0.0.1 only must not look down.
    addrs = [addr[0] for _, addr in addresses]
    return {**params, "host": ",".join([host] * len(addrs)), "hostaddr": ",".join(addrs)}


def connect_within(params: dict, deadline: float) -> pq.PGconn:
    """Log in without blocking past `deadline`: libpq's non-blocking connect, polled with select.

    libpq's own connect_timeout counts whole seconds (2 at least), so a frozen postmaster would
    hold a 0.5 s check for 2 s; here each wait is cut to the time left.
    """
    pgconn = pq.PGconn.connect_start(make_conninfo(**params).encode())
    try:
        poll = pq.PollingStatus.WRITING
        while poll != pq.PollingStatus.OK:
            if poll == pq.PollingStatus.FAILED or pgconn.status == pq.ConnStatus.BAD:
                raise psycopg.OperationalError(pgconn.error_message.decode("utf-8", "replace"))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timeout expired")
            fd = pgconn.socket  # may change between polls (the next address, SSL then plain)
            if poll == pq.PollingStatus.READING:
                select.select([fd], [], [], remaining)
            else:
                select.select([], [fd], [], remaining)
            poll = pgconn.connect_poll()
        return pgconn
    except BaseException:
        pgconn.finish()
        raise


def query(params: dict, deadline: float) -> None:
    """Log in and run SELECT 1, every wait cut to `deadline`."""
    pgconn = connect_within(with_address(params, deadline), deadline)
    try:
        select_one(pgconn, deadline)
    finally:
        pgconn.finish()  # closes the socket; no rollback that would wait on a server that may not answer


def postgres_probe(service: ServiceSettings, ts: datetime, timeout_s: float | None = None) -> ProbeResult:
    """Log in with the DSN from $dsn_env at host:port and run SELECT 1 within timeout_s; never raises."""
    timeout_s = service.timeout_s if timeout_s is None else timeout_s
    start = time.monotonic()
    dsn, params = os.environ.get(service.dsn_env or ""), None
    try:
        if not dsn:
            raise _Failed(f"{service.dsn_env} is not set")
        params = connection_params(service, dsn, timeout_s)
        query(params, start + timeout_s)
        reason = None
    except _Failed as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check, never a crash
        reason = describe(scrub(str(exc), secrets_of(dsn or "", params)), timeout_s)
    latency = (time.monotonic() - start) * 1000.0
    if reason is None and latency <= timeout_s * 1000.0:
        return ProbeResult(service.name, True, latency, None, None, ts)
    # An answer after timeout_s is a timeout all the same (libpq's connect_timeout is at least 2 s).
    return ProbeResult(service.name, False, latency, None, reason or f"timeout after {timeout_s:g}s", ts)
