"""A check's network steps on the probe loop: DNS, connect, TLS, one HTTP exchange.

Each caller runs these under `asyncio.timeout_at(deadline)`, so the deadline covers every step
whatever the server does (a byte a second, a handshake that never answers). The system resolver
ignores any timeout, so a name is looked up on a daemon thread that the check stops waiting for at
its deadline; at most MAX_STUCK_LOOKUPS may be stuck at once (shared with ops/deadline.py).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable

from ops.deadline import MAX_STUCK_LOOKUPS, lookup_slots
from ops.http_wire import RECV_BYTES, NeedMore, Reply, Request, build_request, read_reply


@functools.lru_cache(maxsize=4096)
def _literal_family(host: str) -> int | None:
    """AF_INET/AF_INET6 for an IP literal, None for a name (parsed once per host: ~50 µs each)."""
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[tuple]:
    """(family, address) pairs for host:port; an IP literal needs no lookup."""
    family = _literal_family(host)
    if family is not None:
        return [(family, (host, port))]
    if not lookup_slots.acquire(blocking=False):
        raise OSError(f"too many DNS lookups stuck ({MAX_STUCK_LOOKUPS}): resolver not answering")
    loop = asyncio.get_running_loop()
    answer: asyncio.Future = loop.create_future()

    def settle(found) -> None:
        if not answer.done():  # the check may have given up (its deadline) before the resolver answered
            answer.set_result(found)

    def lookup() -> None:
        try:
            found = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as exc:
            found = exc
        finally:
            lookup_slots.release()
        try:
            loop.call_soon_threadsafe(settle, found)
        except RuntimeError:  # the loop has closed (the dashboard stopped): nobody is waiting
            pass

    threading.Thread(target=lookup, name="dns", daemon=True).start()
    found = await answer
    if isinstance(found, OSError):
        raise found
    return [(family, addr) for family, _, _, _, addr in found]


async def connect(host: str, port: int) -> socket.socket:
    """A new non-blocking TCP connection (never a pooled one) to the first address that answers."""
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for family, addr in await resolve(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, addr)
            return sock
        except BaseException as exc:  # cancelled by the deadline included: the socket is ours to close
            sock.close()
            if not isinstance(exc, OSError):
                raise
            last = exc
    raise last or OSError(f"no address for {host}")


async def fetch(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    read_limit: int = 0,
    enough: bytes | None = None,
) -> Reply:
    """One request on a new connection; at most `read_limit` bytes of body, stopping at `enough`.
    The caller bounds it with its deadline (`asyncio.timeout_at`)."""
    request = (
        _probe_request(url, method) if headers is None and body is None else build_request(url, method, headers, body)
    )
    sock = await connect(request.host, request.port)
    if request.https:
        return await _fetch_tls(sock, request, method, read_limit, enough)
    # Plain HTTP straight on the socket: no transport or stream objects per check.
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_sendall(sock, request.data)
        return await _answer(lambda: loop.sock_recv(sock, RECV_BYTES), method, read_limit, enough)
    finally:
        sock.close()


async def _fetch_tls(sock: socket.socket, request: Request, method: str, read_limit: int, enough) -> Reply:
    try:
        context = ssl.create_default_context()
        reader, writer = await asyncio.open_connection(sock=sock, ssl=context, server_hostname=request.host)
    except BaseException:
        sock.close()
        raise
    try:
        writer.write(request.data)
        await writer.drain()
        return await _answer(lambda: reader.read(RECV_BYTES), method, read_limit, enough)
    finally:
        writer.transport.abort()  # no TLS close_notify wait: the check is over


async def _answer(receive: Callable[[], Awaitable[bytes]], method: str, read_limit: int, enough) -> Reply:
    """Read until ops/http_wire.py has the whole answer (or the server has closed)."""
    buf, closed = bytearray(), False
    while True:
        try:
            return read_reply(buf, closed, method, read_limit, enough)
        except NeedMore:
            chunk = await receive()
            buf += chunk
            closed = not chunk


@functools.lru_cache(maxsize=4096)
def _probe_request(url: str, method: str) -> Request:
    """A probe's request is the same bytes every sweep: built once per URL and method."""
    return build_request(url, method)
