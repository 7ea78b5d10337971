"""One HTTP request on a fresh connection that ends by its deadline, whatever the server does.

The blocking driver, for recovery webhook actions (probes run theirs on the probe loop, see
ops/probe_net.py); both send and read through ops/http_wire.py. No connection pool: a pooled
keep-alive connection can outlive the listener behind it (a forked worker keeps it open after its
parent died), so a reused connection proves nothing about whether a new client can connect.
"""

from __future__ import annotations

import socket
import ssl
import time

from ops.deadline import DeadlinePassed, Watchdog, open_connection, shutdown_quietly
from ops.http_wire import RECV_BYTES, NeedMore, Reply, build_request, read_reply

__all__ = ["Reply", "fetch"]


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
    request = build_request(url, method, headers, body)
    held: dict = {}

    def expire() -> None:
        held["expired"] = True
        shutdown_quietly(held.get("sock"))

    def hold(sock: socket.socket) -> socket.socket:
        # Expired while connecting (the dashboard stopping): the socket the watchdog could not see
        # yet is shut down here. Each side writes before it reads, so one of them always acts.
        held["sock"] = sock
        if held.get("expired"):
            shutdown_quietly(sock)
        return sock

    with watchdog.guard(deadline, expire):
        sock = hold(open_connection(request.host, request.port, deadline))
        try:
            if request.https:  # the handshake runs under the watchdog too, on a socket it can shut down
                context = ssl.create_default_context()
                sock = hold(context.wrap_socket(sock, server_hostname=request.host, do_handshake_on_connect=False))
                sock.do_handshake()
            sock.sendall(request.data)
            buf, closed = bytearray(), False
            while True:
                try:
                    reply = read_reply(buf, closed, method, read_limit, enough)
                    break
                except NeedMore:
                    chunk = sock.recv(RECV_BYTES)
                    buf += chunk
                    closed = not chunk
            if time.monotonic() >= deadline:  # the watchdog's shutdown reads as a clean end of stream
                raise DeadlinePassed()
            return reply
        finally:
            sock.close()
