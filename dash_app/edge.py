"""What slow or idle clients may cost: descriptors, connection caps, a deadline for each request head.

A half-open connection (a request line, never the end of the headers) must cost neither a thread
nor the service of others. Both ports give each request head HEAD_TIMEOUT_S to arrive, cap the
connections they hold (all of them, and per client address) before any thread is involved, and
evict the oldest connection still waiting for its head when a new one arrives at a cap. The caps
come from the descriptor limit, raised to its hard limit at start, minus a reserve that probes,
history and log files and recovery commands keep for themselves.
"""

from __future__ import annotations

import logging
import resource
import socket
import time
from collections import Counter
from dataclasses import dataclass

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

log = logging.getLogger(__name__)

HEAD_TIMEOUT_S = 5.0  # a request head (or a WebSocket handshake) arrives whole within this, or the connection goes
MAX_CONNECTIONS_PER_PORT = 4096
ACCEPT_BATCH = 256  # connections taken from the backlog per loop turn
ACCEPT_PAUSE_S = 0.5  # after a failed accept (no descriptor left): no busy loop, no log flood
RESERVE_FDS = 512  # never given to clients: probes, files, recovery commands (more with a large max_concurrency)
HEAD_END = b"\r\n\r\n"
PEEK_BYTES = 64 * 1024  # how far a late loop looks for the end of a head before closing the connection


@dataclass(frozen=True)
class Caps:
    """Connections one port holds at once, in all and per client address."""

    total: int
    per_address: int


_last_warning = [0.0]


def warn_once_a_minute(message: str, *args) -> None:
    """A warning that a flood cannot turn into megabytes of log."""
    now = time.monotonic()
    if now - _last_warning[0] >= 60:
        _last_warning[0] = now
        log.warning(message, *args)


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (the usual 1,024 is too few); returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the descriptor limit from %d to %d: %s", soft, target, exc)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def port_caps(fd_limit: int, reserve: int) -> Caps:
    """The caps of each of the two ports: a quarter of the spare descriptors each, the rest kept free."""
    spare = max(128, fd_limit - reserve)
    total = max(32, min(MAX_CONNECTIONS_PER_PORT, spare // 4))
    return Caps(total=total, per_address=max(16, total // 2))


class GuardedChannel(HTTPChannel):
    """Waitress's connection, timed: `waiting_since` is when it began waiting for a request head."""

    def __init__(self, server, sock, addr, adj, map=None) -> None:
        self.waiting_since: float | None = time.monotonic()
        self.peer = addr[0] if isinstance(addr, tuple) else str(addr)
        super().__init__(server, sock, addr, adj, map=map)

    def _awaiting_head(self) -> bool:
        """No request queued and none whose head is whole (call with requests_lock held)."""
        return not self.requests and (self.request is None or not self.request.headers_finished)

    # Both updates look at the parser's state under requests_lock: the loop thread parses while a
    # worker answers. A pipelined request whose head came with the one before it (its body still on
    # the way) is not waiting for a head when that answer ends, and must not get a deadline that
    # would close it mid-body; and an answer that ends between the loop's look and its write must
    # not leave an idle connection with no deadline at all.
    def received(self, data) -> bool:
        result = super().received(data)
        with self.requests_lock:
            if not self._awaiting_head():
                self.waiting_since = None  # a head arrived: the request is a worker's business now
        return result

    def service(self) -> None:
        try:
            super().service()
        finally:
            with self.requests_lock:
                if self._awaiting_head():
                    self.waiting_since = time.monotonic()  # answered: the next head has its own deadline

    def head_arrived(self) -> bool:
        """Whether the end of a head is in the kernel's buffer, unread only because this loop was late."""
        if not self.readable():  # the loop does not read this connection now (an answer waits): no excuse
            return False
        try:
            pending = self.socket.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            return False
        started = self.request.header_plus[-3:] if self.request is not None else b""
        return HEAD_END in started + pending

    def del_channel(self, map=None) -> None:
        if self._fileno in self.server.active_channels:
            self.server.per_address[self.peer] -= 1
            if self.server.per_address[self.peer] <= 0:
                del self.server.per_address[self.peer]
        super().del_channel(map)


class GuardedServer(TcpWSGIServer):
    """Waitress's listener with the caps and the head deadline (its loop runs both, no thread needed)."""

    channel_class = GuardedChannel

    def __init__(self, application, *, caps: Caps, head_timeout_s: float = HEAD_TIMEOUT_S, **kw) -> None:
        self.caps, self.head_timeout_s = caps, head_timeout_s
        self.per_address: Counter[str] = Counter()
        self.accept_paused_until = 0.0
        super().__init__(application, **kw)

    def readable(self) -> bool:
        accepting = super().readable()  # also runs maintenance() every cleanup_interval
        return accepting and time.monotonic() >= self.accept_paused_until

    def handle_accept(self) -> None:
        # Drain the backlog in one go: waitress takes one connection per loop turn, and a turn over
        # thousands of held connections takes milliseconds, so a flood would queue a real client for seconds.
        for _ in range(ACCEPT_BATCH):
            try:
                accepted = self.accept()
            except OSError as exc:  # out of descriptors: pause accepting, or the loop would spin on it
                self.accept_paused_until = time.monotonic() + ACCEPT_PAUSE_S
                warn_once_a_minute("HTTP port: accept failed (%s); pausing new connections for a moment", exc)
                return
            if accepted is None:
                return
            self._admit(*accepted)

    def _admit(self, conn, addr) -> None:
        peer = addr[0]
        if len(self.active_channels) >= self.caps.total:
            self._evict(None)
        if self.per_address[peer] >= self.caps.per_address:
            self._evict(peer)
        if len(self.active_channels) >= self.caps.total or self.per_address[peer] >= self.caps.per_address:
            conn.close()  # every held connection is busy with a request: refuse, at no cost
            return
        try:
            self.set_socket_options(conn)
        except OSError:
            conn.close()
            return
        self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
        self.per_address[peer] += 1

    def _evict(self, peer: str | None) -> None:
        """Close the oldest eighth of the connections (of `peer`, or all) still waiting for a head."""
        waiting = [
            ch
            for ch in self.active_channels.values()
            if ch.waiting_since is not None and not ch.requests and (peer is None or ch.peer == peer)
        ]
        waiting.sort(key=lambda ch: ch.waiting_since)
        for channel in waiting[: max(1, len(waiting) // 8)]:
            channel.handle_close()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # waitress's idle timeout (a body that stops arriving)
        cutoff = time.monotonic() - self.head_timeout_s
        for channel in list(self.active_channels.values()):
            since = channel.waiting_since
            # A stalled loop (a busy machine) may not have read a head that came in time: it stays.
            if since is not None and since < cutoff and not channel.requests and not channel.head_arrived():
                # Closed in the loop's dispatch, as waitress's own timeout does, not here: maintenance
                # runs inside readable() while the loop registers descriptors, so a socket closed now
                # is still polled; its POLLNVAL would then reach the connection accepted in the same
                # turn onto the reused descriptor, and close it unanswered (a reset).
                channel.will_close = True


def guarded_waitress(app, host: str, port: int, threads: int, caps: Caps, **adjustments) -> GuardedServer:
    """Like waitress.create_server for one TCP address, with GuardedServer (binds: may raise OSError)."""
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        connection_limit=caps.total + 64,  # GuardedServer evicts before this; waitress would stop accepting
        cleanup_interval=1,  # maintenance (the head deadline) runs about every second
        channel_timeout=30,
        asyncore_use_poll=True,  # select() cannot watch descriptors above 1,023
        backlog=2048,
        **adjustments,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    sockets: dict = {}
    try:
        return GuardedServer(app, caps=caps, map=sockets, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
    except OSError:
        for dispatcher_or_trigger in list(sockets.values()):  # the trigger pipe and the unbound socket
            dispatcher_or_trigger.close()
        dispatcher.shutdown(timeout=1)
        raise
