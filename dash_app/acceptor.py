"""The WebSocket port's front: one epoll thread holds new connections until their request head is
whole, then hands each to a worker thread running Werkzeug + flask-sock (which keep the `/ws` contract).

Werkzeug gives every connection a thread at once and waits on its request line with no deadline,
so 1,000 half-open connections were 1,000 threads. Here a connection gets a thread only when its
whole head is in the kernel's buffer (peeked, not read, so Werkzeug parses it as usual), within
HEAD_TIMEOUT_S of connecting; the waiting ones are capped in all and per address, the handed-off
ones by the WebSocket client limit, and an over-limit client gets its 503 from this thread.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from collections import Counter

from dash_app.edge import ACCEPT_PAUSE_S, HEAD_END, HEAD_TIMEOUT_S, Caps, warn_once_a_minute

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024  # a WebSocket handshake is well under 1 KiB
DRAIN_READS = 8  # reads of what a refused client already sent, so closing does not reset the connection
EDGE = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLET  # a new event for every arrival (we only peek)


def _answer(status: str, error: str, detail: object) -> bytes:
    body = json.dumps({"error": error, "detail": detail}).encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close"
    return head.encode() + b"\r\n\r\n" + body


class HeadAcceptor:
    """Accepts on `listener`, waits for each request head, calls `handoff(sock, addr)` on a worker thread."""

    def __init__(self, listener: socket.socket, handoff, caps: Caps, max_active: int, head_timeout_s=HEAD_TIMEOUT_S):
        self.listener, self.handoff, self.caps = listener, handoff, caps
        self.max_active, self.head_timeout_s = max_active, head_timeout_s
        self.listener.setblocking(False)
        self.active = 0  # connections handed to worker threads, still running
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[socket.socket, tuple, float]] = {}  # fd -> (sock, addr, since); oldest first
        self._per_address: Counter[str] = Counter()
        self._epoll = select.epoll()
        self._epoll.register(listener.fileno(), select.EPOLLIN)
        self._resume_at = 0.0  # when accepting resumes after a failed accept (0: not paused)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ws-acceptor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=2)
        for fd in list(self._pending):
            self._drop(fd)
        self._epoll.close()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _run(self) -> None:
        listen_fd = self.listener.fileno()
        while not self._stop.is_set():
            try:
                events = self._epoll.poll(0.25)
            except OSError:
                return
            for fd, mask in events:
                if fd == listen_fd:
                    self._accept_all()
                elif fd in self._pending:
                    self._examine(fd, mask)
            self._expire()
            self._resume_accepting()

    def _accept_all(self) -> None:
        for _ in range(256):  # then let the pending ones have a turn
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors: pause, or epoll would report the listener again at once
                warn_once_a_minute("WebSocket port: accept failed (%s); pausing new connections for a moment", exc)
                self._pause_accepting()
                return
            self._admit(sock, addr)

    def _pause_accepting(self) -> None:
        self._epoll.unregister(self.listener.fileno())
        self._resume_at = time.monotonic() + ACCEPT_PAUSE_S

    def _resume_accepting(self) -> None:
        if self._resume_at and time.monotonic() >= self._resume_at:
            self._resume_at = 0.0
            self._epoll.register(self.listener.fileno(), select.EPOLLIN)

    def _admit(self, sock: socket.socket, addr) -> None:
        peer = addr[0]
        if len(self._pending) >= self.caps.total:
            self._evict(None)
        if self._per_address[peer] >= self.caps.per_address:
            self._evict(peer)
        if len(self._pending) >= self.caps.total or self._per_address[peer] >= self.caps.per_address:
            sock.close()
            return
        self._pending[sock.fileno()] = (sock, addr, time.monotonic())
        self._per_address[peer] += 1
        self._epoll.register(sock.fileno(), EDGE)
        self._examine(sock.fileno(), 0)  # the head may already be there

    def _examine(self, fd: int, mask: int) -> None:
        sock = self._pending[fd][0]
        try:
            head = sock.recv(MAX_HEAD_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            head = None if not mask & (select.EPOLLHUP | select.EPOLLERR) else b""
        except OSError:
            head = b""
        if head is None:
            return
        if HEAD_END in head:
            self._handoff(fd)
        elif head == b"" or mask & (select.EPOLLRDHUP | select.EPOLLHUP):  # gone before finishing its head
            self._drop(fd)
        elif len(head) >= MAX_HEAD_BYTES:
            self._refuse(fd, "431 Request Header Fields Too Large", "request head too large", MAX_HEAD_BYTES)

    def _handoff(self, fd: int) -> None:
        with self._lock:
            full = self.active >= self.max_active
            if not full:
                self.active += 1
        if full:
            self._refuse(fd, "503 Service Unavailable", "too many WebSocket clients", {"max": self.max_active})
            return
        sock, addr = self._forget(fd)
        threading.Thread(target=self._serve, args=(sock, addr), name="ws-client", daemon=True).start()

    def _serve(self, sock: socket.socket, addr) -> None:
        try:
            self.handoff(sock, addr)
        finally:
            with self._lock:
                self.active -= 1

    def _refuse(self, fd: int, status: str, error: str, detail: object) -> None:
        sock = self._pending[fd][0]
        try:
            sock.send(_answer(status, error, detail), socket.MSG_DONTWAIT)
            sock.shutdown(socket.SHUT_WR)  # the answer, then a FIN
            # The head was only peeked: closing with it unread would send a reset instead of the FIN,
            # and a client still sending gets "connection reset" (or a broken pipe), not the answer.
            for _ in range(DRAIN_READS):
                if not sock.recv(MAX_HEAD_BYTES, socket.MSG_DONTWAIT):
                    break
        except OSError:  # nothing more to read now (or the client is gone): close
            pass
        self._drop(fd)

    def _forget(self, fd: int) -> tuple[socket.socket, tuple]:
        sock, addr, _ = self._pending.pop(fd)
        self._per_address[addr[0]] -= 1
        if self._per_address[addr[0]] <= 0:
            del self._per_address[addr[0]]
        try:
            self._epoll.unregister(fd)
        except OSError:
            pass
        return sock, addr

    def _drop(self, fd: int) -> None:
        sock, _ = self._forget(fd)
        sock.close()

    def _evict(self, peer: str | None) -> None:
        """Close the oldest eighth of the waiting connections (of `peer`, or all)."""
        waiting = [fd for fd, (_, addr, _) in self._pending.items() if peer is None or addr[0] == peer]
        for fd in waiting[: max(1, len(waiting) // 8)]:  # dicts keep insertion order: oldest first
            self._drop(fd)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.head_timeout_s
        for fd, (_, _, since) in list(self._pending.items()):
            if since >= cutoff:
                break  # the rest came later
            self._examine(fd, 0)  # a head that arrived while this thread was busy still counts
            if fd in self._pending:
                self._drop(fd)
