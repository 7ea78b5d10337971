"""One HTTP request on a fresh connection that ends by its deadline, whatever the server does.

Probes and webhook actions use it. No connection pool: a pooled keep-alive connection can outlive
the listener behind it (a forked worker keeps it open after its parent died), so a reused
connection proves nothing about whether a new client can connect.
"""

from __future__ import annotations

import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ops.deadline import DeadlinePassed, Watchdog, open_connection, shutdown_quietly

USER_AGENT = "mission-control-probe/1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


def _target(url: str) -> tuple[str, int, bool, str]:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname or "", parts.port or (443 if https else 80), https, path


def fetch(
    url: str,
    deadline: float,
    watchdog: Watchdog,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    read_limit: int = 0,
    enough: bytes | None = None,
) -> Reply:
    """Send one request and read at most `read_limit` bytes of the answer (stopping early once
    `enough` is in it). Raises OSError/http.client errors; after the deadline, whatever the
    interrupted call raised (the caller compares the clock with its deadline to call it a timeout).
    """
    host, port, https, path = _target(url)
    held: dict = {}

    def connect(*_args, **_kwargs):
        sock = held["sock"] = open_connection(host, port, deadline)
        if https:  # the handshake runs under the watchdog too, on a socket it can shut down
            sock = held["sock"] = ssl.create_default_context().wrap_socket(
                sock, server_hostname=host, do_handshake_on_connect=False
            )
            sock.do_handshake()
        return sock

    conn = http.client.HTTPConnection(host, port, timeout=max(0.001, deadline - time.monotonic()))
    conn._create_connection = connect  # our socket: fresh, DNS-bounded, maybe TLS
    named = f"[{host}]" if ":" in host else host  # an IPv6 literal goes in brackets
    sent = {
        "Host": named if port == (443 if https else 80) else f"{named}:{port}",
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Connection": "close",
        **(headers or {}),
    }
    try:
        with watchdog.guard(deadline, lambda: shutdown_quietly(held.get("sock"))):
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = bytearray()
            while len(data) < read_limit:
                chunk = response.read1(min(8192, read_limit - len(data)))
                if not chunk:
                    break
                data += chunk
                if enough and enough in data:
                    break
            if time.monotonic() >= deadline:  # the watchdog's shutdown reads as a clean end of stream
                raise DeadlinePassed()
            return Reply(response.status, bytes(data))
    finally:
        conn.close()
