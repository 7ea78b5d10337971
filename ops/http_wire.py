"""The bytes of one HTTP exchange, without any I/O: the request a check sends, the answer it reads.

Two drivers read answers with it: the blocking one in ops/http_fetch.py (recovery webhooks) and the
probe loop's in ops/probe_net.py. `read_reply` parses the bytes that have arrived so far and raises
NeedMore when the answer is not complete yet; the driver reads more and asks again. Parsing from
the start each time is cheap here: an answer read by a check is capped at 64 KiB of head and
`read_limit` of body, and a loopback answer almost always arrives in one piece.

The answer is read here, not by http.client: a probe needs the status and at most a bounded body,
and http.client's header parsing (the email package) was half of a check's CPU. Failures raise the
same http.client exceptions as before, so callers describe them the same way.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "mission-control-probe/1"
MAX_HEAD_BYTES = 64 * 1024  # status line and headers; http.client's limit for one line
RECV_BYTES = 64 * 1024
_BAD_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")  # as http.client: no spaces or controls in the path
_BAD_IN_HEADER = re.compile(r"[\r\n\x00]")  # no header injection from a configured value
_BODY_METHODS = {"POST", "PUT", "PATCH"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


@dataclass(frozen=True)
class Request:
    host: str
    port: int
    https: bool
    data: bytes  # the request's bytes, head and body


class NeedMore(Exception):  # noqa: N818 - a signal to the driver, not an error
    """The answer has not fully arrived: read more bytes (or learn that the server closed)."""


def build_request(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> Request:
    """A request on a connection of its own: HTTP/1.1, `Connection: close`, an identity body."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host, port = parts.hostname or "", parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    named = f"[{host}]" if ":" in host else host  # an IPv6 literal goes in brackets
    sent = {
        "Host": named if port == (443 if https else 80) else f"{named}:{port}",
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "identity",  # an expected body is matched in plain bytes
        "Connection": "close",
        **(headers or {}),
    }
    if _BAD_IN_TARGET.search(path) or _BAD_IN_TARGET.search(method) or not path.isascii():
        raise http.client.InvalidURL(f"can't send {method} {path!r}: control characters or spaces")
    if body is not None or method in _BODY_METHODS:
        sent.setdefault("Content-Length", str(len(body or b"")))
    lines = [f"{method} {path} HTTP/1.1"]
    for name, value in sent.items():
        if _BAD_IN_HEADER.search(name) or _BAD_IN_HEADER.search(value) or ":" in name:
            raise ValueError(f"invalid header {name!r}")
        lines.append(f"{name}: {value}")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    return Request(host, port, https, data)


def read_reply(buf: bytearray, closed: bool, method: str, read_limit: int, enough: bytes | None) -> Reply:
    """The answer in `buf` (`closed`: the server has closed, nothing more will come).

    Reads at most `read_limit` bytes of body, stopping early once `enough` is in it. Raises
    NeedMore while the answer is incomplete and the server is still sending.
    """
    answer = _Answer(buf, closed)
    status, headers, start = answer.head(0)
    while 100 <= status < 200 and status != 101:  # 100 Continue, 103 Early Hints: the answer follows
        status, headers, start = answer.head(start)
    data = b""
    if read_limit > 0 and method != "HEAD" and status not in (204, 304):
        data = _body(answer, start, headers, read_limit, enough)
    return Reply(status, data)


class _Answer:
    """The bytes so far; `more()` is False once the server has closed, NeedMore while it may send."""

    def __init__(self, buf: bytearray, closed: bool) -> None:
        self.buf = buf
        self.closed = closed

    def more(self) -> bool:
        if self.closed:
            return False
        raise NeedMore()

    def head(self, start: int) -> tuple[int, dict[str, str], int]:
        """(status, headers with lower-case names, offset of the body) of the answer at `start`."""
        end, gap = _blank_line(self.buf, start)
        if end < 0:
            if len(self.buf) - start > MAX_HEAD_BYTES:
                raise http.client.LineTooLong("answer headers")
            self.more()  # closed mid-head: like http.client, take the head as it stands
            if len(self.buf) == start:
                raise http.client.RemoteDisconnected("Remote end closed connection without response")
            end, gap = len(self.buf), 0
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
    if len(answer.buf) < end and not (enough and answer.buf.find(enough, start) >= 0):
        answer.more()  # the server closed early: the body is what it sent
    return bytes(answer.buf[start:end])


def _chunked(answer: _Answer, at: int, limit: int, enough: bytes | None) -> bytes:
    data = bytearray()
    while len(data) < limit and not (enough and enough in data):
        line_end = answer.buf.find(b"\n", at)
        if line_end < 0:
            answer.more()
            return bytes(data)  # cut off: what arrived is what the server sent
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
        if len(answer.buf) - at < want:
            answer.more()
        data += answer.buf[at : at + want]
        at += size
        if len(answer.buf) < at:
            break  # cut off inside the chunk
    return bytes(data)
