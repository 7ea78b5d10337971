"""Hard deadlines for blocking network I/O: DNS, connect, TLS handshake and reads all end by a deadline.

Used where a thread blocks: recovery webhooks (ops/http_fetch.py) and the postgres check's name
lookup. HTTP and TCP checks run on the probe loop under asyncio's own deadline (ops/probe_net.py),
sharing only the cap on stuck DNS lookups. A socket timeout is per read, so a server that drips one
byte a second never trips it, and the system resolver ignores it altogether. The watchdog here shuts
a socket down when its deadline passes, which makes any blocked recv or handshake return at once;
DNS runs on a daemon thread that the caller stops waiting for at the deadline.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Lookups stuck in the system resolver each hold a thread until it gives up; past this many at
# once, a check fails at once ("DNS busy") instead of piling up more.
MAX_STUCK_LOOKUPS = 32
lookup_slots = threading.BoundedSemaphore(MAX_STUCK_LOOKUPS)


class DeadlinePassed(TimeoutError):
    """The check's deadline passed before this step finished."""


class Watchdog:
    """One thread that calls `expire` for every guarded block still running at its deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, list]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    @contextmanager
    def guard(self, deadline: float, expire: Callable[[], None]) -> Iterator[None]:
        """While the block runs, `expire()` is called once if monotonic time reaches `deadline`."""
        entry = [expire]  # emptied when the block leaves, so a late expiry never fires
        with self._cond:
            if self._closed:  # shutting down: nothing may start a wait that no one would end
                raise DeadlinePassed()
            heapq.heappush(self._heap, (deadline, next(self._seq), entry))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadline-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0][2] is entry:  # only a new earliest deadline changes how long the thread sleeps
                self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                entry[0] = None

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and (self._heap[0][2][0] is None or self._heap[0][0] <= now):
                    _, _, entry = heapq.heappop(self._heap)
                    expire, entry[0] = entry[0], None
                    self._closed_expire(expire)  # a socket shutdown: quick, and never blocks
                self._cond.wait(self._heap[0][0] - now if self._heap else None)

    def close(self) -> None:
        """Expire every guarded block now (a check still running at shutdown ends at once)."""
        with self._cond:
            self._closed = True
            for _, _, entry in self._heap:
                expire, entry[0] = entry[0], None
                self._closed_expire(expire)
            self._heap.clear()
            self._cond.notify()

    @staticmethod
    def _closed_expire(expire: Callable[[], None] | None) -> None:
        if expire is not None:
            try:
                expire()
            except Exception:  # noqa: BLE001, S110 - an expiry that fails changes nothing
                pass


def shutdown_quietly(sock: socket.socket | None) -> None:
    """Make every blocked operation on `sock` return now (the owner still closes it)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def remaining(deadline: float) -> float:
    """Seconds left before `deadline`; DeadlinePassed if none."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed()
    return left


def resolve(host: str, port: int, deadline: float) -> list[tuple]:
    """getaddrinfo within the deadline; an IP literal needs no lookup."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        return [(family, (host, port))]
    box: list = []
    if not lookup_slots.acquire(blocking=False):
        raise OSError(f"too many DNS lookups stuck ({MAX_STUCK_LOOKUPS}): resolver not answering")

    def lookup() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except OSError as exc:
            box.append(exc)
        finally:
            lookup_slots.release()

    # A daemon thread: a resolver stuck past the deadline costs one thread until it gives up,
    # and never holds up the check, a sweep or the process's exit.
    thread = threading.Thread(target=lookup, name="dns", daemon=True)
    thread.start()
    thread.join(remaining(deadline))
    if not box:
        raise DeadlinePassed()
    if isinstance(box[0], OSError):
        raise box[0]
    return [(family, addr) for family, _, _, _, addr in box[0]]


def open_connection(host: str, port: int, deadline: float) -> socket.socket:
    """A new TCP connection (never a pooled one), DNS and connect inside the deadline."""
    last: OSError | None = None
    for family, addr in resolve(host, port, deadline):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(remaining(deadline))
            sock.connect(addr)
            return sock
        except OSError as exc:
            sock.close()
            if isinstance(exc, DeadlinePassed):
                raise
            last = exc
    raise last or OSError(f"no address for {host}")
