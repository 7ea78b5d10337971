"""One HTTP request on a fresh connection that ends by its deadline, whatever the server does.

Probes and webhook actions use it. No connection pool: a pooled keep-alive connection can outlive
the listener behind it (a forked worker keeps it open after its parent died), so a reused
connection proves nothing about whether a new client can connect.

The answer is read here, not by http.client: a probe needs the status and at most a bounded body,
and http.client's header parsing (the email package) was half of a check's CPU. At 1,000 services
(100 checks a second) this parser is what keeps the steady CPU of the process low (bench/scale.py).
Failures raise the same http.client exceptions as before, so callers describe them the same way.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ops.deadline import DeadlinePassed, Watchdog, open_connection, shutdown_quietly

USER_AGENT = "mission-control-probe/1"
MAX_HEAD_BYTES = 64 * 1024  # status line and headers; http.client's limit for one line
_RECV_BYTES = 64 * 1024
_BAD_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")  # as http.client: no spaces or controls in the path
_BAD_IN_HEADER = re.compile(r"[\r\n\x00]")  # no header injection from a configured value
_BODY_METHODS = {"POST", "PUT", "PATCH"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


def _target(url: str) -> tuple[str, int, bool, str]:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname or "", parts.port or (443 if https else 80), https, path


def _request(method: str, path: str, headers: dict[str, str], body: bytes | None) -> bytes:
    if _BAD_IN_TARGET.search(path) or _BAD_IN_TARGET.search(method) or not path.isascii():
        raise http.client.InvalidURL(f"can't send {method} {path!r}: control characters or spaces")
    if body is not None or method in _BODY_METHODS:
        headers.setdefault("Content-Length", str(len(body or b"")))
    lines = [f"{method} {path} HTTP/1.1"]
    for name, value in headers.items():
        if _BAD_IN_HEADER.search(name) or _BAD_IN_HEADER.search(value) or ":" in name:
            raise ValueError(f"invalid header {name!r}")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class _Answer:
    """The bytes of one answer as they arrive; `more()` is False once the server has closed."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.closed = False

    def more(self) -> bool:
        if self.closed:
            return False
        chunk = self.sock.recv(_RECV_BYTES)
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def head(self, start: int) -> tuple[int, dict[str, str], int]:
        """(status, headers with lower-case names, offset of the body) of the answer at `start`."""
        while True:
            end, gap = _blank_line(self.buf, start)
            if end >= 0:
                break
            if len(self.buf) - start > MAX_HEAD_BYTES:
                raise http.client.LineTooLong("answer headers")
            if not self.more():  # closed mid-head: like http.client, take the head as it stands
                if len(self.buf) == start:
                    raise http.client.RemoteDisconnected("Remote end closed connection without response")
                end, gap = len(self.buf), 0
                break
        lines = bytes(self.buf[start:end]).decode("iso-8859-1").splitlines()
        status = _status(lines[0] if lines else "")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        return status, headers, end + gap


def _blank_line(buf: bytearray, start: int) -> tuple[int, int]:
    """Where the head ends (and how long its blank line is), or (-1, 0) if it has not arrived."""
    found = [(at + 1, 2) for at in (buf.find(b"\n\r\n", start),) if at >= 0]
    found += [(at + 1, 1) for at in (buf.find(b"\n\n", start),) if at >= 0]
    return min(found) if found else (-1, 0)


def _status(line: str) -> int:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or len(parts[1]) != 3 or not parts[1].isdigit():
        raise http.client.BadStatusLine(line)
    status = int(parts[1])
    if status < 100:
        raise http.client.BadStatusLine(line)
    return status


def _body(answer: _Answer, start: int, headers: dict[str, str], limit: int, enough: bytes | None) -> bytes:
    """Up to `limit` bytes of the body at `start`, stopping once `enough` is in it."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _chunked(answer, start, limit, enough)
    length = headers.get("content-length", "")
    end = start + min(int(length), limit) if length.strip().isdigit() else start + limit
    while len(answer.buf) < end and not (enough and answer.buf.find(enough, start) >= 0) and answer.more():
        pass
    return bytes(answer.buf[start:end])


def _chunked(answer: _Answer, at: int, limit: int, enough: bytes | None) -> bytes:
    data = bytearray()
    while len(data) < limit and not (enough and enough in data):
        line_end = answer.buf.find(b"\n", at)
        while line_end < 0:
            if not answer.more():
                return bytes(data)  # cut off: what arrived is what the server sent
            line_end = answer.buf.find(b"\n", at)
        size_text = bytes(answer.buf[at:line_end]).split(b";", 1)[0].strip()
        at = line_end + 1
        if not size_text:  # the CRLF that ends a chunk's data
            continue
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.IncompleteRead(bytes(data)) from None
        if size == 0:
            break
        want = min(size, limit - len(data))
        while len(answer.buf) - at < want and answer.more():
            pass
        data += answer.buf[at : at + want]
        at += size
        if len(answer.buf) < at:
            break  # cut off inside the chunk
    return bytes(data)


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
    named = f"[{host}]" if ":" in host else host  # an IPv6 literal goes in brackets
    sent = {
        "Host": named if port == (443 if https else 80) else f"{named}:{port}",
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "identity",  # an expected body is matched in plain bytes
        "Connection": "close",
        **(headers or {}),
    }
    request = _request(method, path, sent, body)
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
        sock = hold(open_connection(host, port, deadline))
        try:
            if https:  # the handshake runs under the watchdog too, on a socket it can shut down
                sock = hold(
                    ssl.create_default_context().wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
                )
                sock.do_handshake()
            sock.sendall(request)
            answer = _Answer(sock)
            status, answer_headers, start = answer.head(0)
            while 100 <= status < 200 and status != 101:  # 100 Continue, 103 Early Hints: the answer follows
                status, answer_headers, start = answer.head(start)
            data = b""
            if read_limit > 0 and method != "HEAD" and status not in (204, 304):
                data = _body(answer, start, answer_headers, read_limit, enough)
            if time.monotonic() >= deadline:  # the watchdog's shutdown reads as a clean end of stream
                raise DeadlinePassed()
            return Reply(status, data)
        finally:
            sock.close()
