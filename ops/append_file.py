"""An append-only file whose writes never raise: on a full disk the lines wait in memory (bounded),
no partial line is left behind, and writing resumes by itself once there is space again.

Used by the history store and the recovery log. A monitor that stops or crashes because its disk
filled up hides the outage it should be reporting, so a failed write is a state to show (see
`WriteHealth.status`), logged as one ERROR line a minute at most, never a traceback per sweep.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

# What a damaged line raises when decoded (json, then the record's own checks).
DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError)


class LineReport(Protocol):
    torn_tail: bool  # a partial last line from a crash mid-write
    good_bytes: int  # the file's length up to the end of the last complete line


def whole_lines(handle: BinaryIO, report: LineReport) -> Iterator[bytes]:
    """The complete, non-blank lines of a file these writers append to; a partial last line (a crash
    mid-write) ends the reading and is flagged, so the caller cuts it off and keeps it aside."""
    for raw in handle:
        if not raw.endswith(b"\n"):
            report.torn_tail = True  # only the very last piece can lack its newline
            return
        report.good_bytes += len(raw)
        if raw.strip():
            yield raw


REPORT_EVERY_S = 60.0
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def describe(exc: OSError) -> str:
    """A few words for the page: "disk full" for ENOSPC/EDQUOT, else the OS's own."""
    if exc.errno in DISK_FULL:
        return "disk full"
    return (exc.strerror or type(exc).__name__).lower()


class WriteHealth:
    """Whether writes to one file fail; says so in the log at most once per `every_s`."""

    def __init__(self, what: str, logger: logging.Logger, every_s: float = REPORT_EVERY_S) -> None:
        self.what, self.log, self.every_s = what, logger, every_s
        self.error: str | None = None  # "history is not being saved: disk full"
        self.since: datetime | None = None
        self._last_report = -every_s - 1.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def failed(self, exc: OSError, waiting: int = 0, dropped: int = 0) -> None:
        """Record a failed write; log it (one line, no traceback) unless logged within the minute."""
        self.error = f"{self.what} is not being saved: {describe(exc)}"
        self.since = self.since or datetime.now(UTC)
        now = time.monotonic()
        if now - self._last_report >= self.every_s:
            self._last_report = now
            given_up = f", {dropped} older one(s) given up (memory bound)" if dropped else ""
            self.log.error(
                "%s (%s); %d line(s) kept in memory%s, retrying on each write", self.error, exc, waiting, given_up
            )

    def resumed(self, written: int) -> None:
        if self.error is not None:
            self.log.warning("%s is being saved again (%d held line(s) written)", self.what, written)
        self.error = self.since = None  # a disk that fills again within the minute: the banner says so at once

    def status(self) -> dict:
        return {"ok": self.ok, "error": self.error, "since": None if self.since is None else self.since.isoformat()}


class AppendFile:
    """Lines appended with os.write; a failed write is cut back to the last whole line and held."""

    def __init__(self, path: Path, health: WriteHealth, max_held_bytes: int, keep_open: bool = True) -> None:
        self.path, self.health, self.max_held_bytes = Path(path), health, max_held_bytes
        self.keep_open = keep_open  # False: opened per append (rare writers need no descriptor held)
        self.offset = 0  # the file's length up to the end of the last whole line we wrote
        self.dropped = 0  # held lines given up on (the bound): in memory this run, never in the file
        self._fd: int | None = None
        self._held: deque[bytes] = deque()
        self._held_bytes = 0
        self._unterminated = False  # the file's last line lacks its newline: write one before ours
        self._giving_up = False  # held lines are being dropped for the bound (warned once an outage)
        self._lock = threading.RLock()

    @property
    def held(self) -> int:
        return len(self._held)

    def open(self) -> bool:
        """Open for appending (creating it); False (reported, retried on append) if the OS refuses."""
        with self._lock:
            self._close_fd()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
                self.offset = os.fstat(self._fd).st_size
                # A last line without its newline (a hand edit, a repair the full disk refused) is ended
                # before ours, so ours never lands glued to it; a damaged one is salvaged at a later start.
                self._unterminated = self.offset > 0 and os.pread(self._fd, 1, self.offset - 1) != b"\n"
            except OSError as exc:
                self._close_fd()
                self.health.failed(exc, self.held, self.dropped)
                return False
            return True

    def append(self, line: bytes) -> bool:
        """Write `line` after any held ones; on failure keep it (bounded) and return False. Never raises."""
        with self._lock:
            self._held.append(line)
            self._held_bytes += len(line)
            if self._held_bytes > self.max_held_bytes:
                self._give_up_oldest()
            try:
                return self._drain()
            finally:
                if not self.keep_open:
                    self._close_fd()

    def _give_up_oldest(self) -> None:
        if not self._giving_up:  # once an outage: the minute's ERROR line counts them from then on
            self._giving_up = True
            self.health.log.warning(
                "%s: over %d bytes waiting for the disk; the oldest lines are given up", self.path, self.max_held_bytes
            )
        while self._held_bytes > self.max_held_bytes and len(self._held) > 1:
            self._held_bytes -= len(self._held.popleft())
            self.dropped += 1

    def _drain(self) -> bool:
        if self._fd is None and not self.open():
            return False
        written = 0
        try:
            if not self.health.ok and os.fstat(self._fd).st_size != self.offset:
                os.ftruncate(self._fd, self.offset)  # a cut-back that failed last time
            if self._unterminated:
                self._write_all(b"\n")
                self.offset += 1
                self._unterminated = False
            while self._held:
                self._write_all(self._held[0])
                self.offset += len(self._held[0])
                self._held_bytes -= len(self._held.popleft())
                written += 1
        except OSError as exc:
            self._cut_back()
            self.health.failed(exc, self.held, self.dropped)
            return False
        if not self.health.ok:
            self.health.resumed(written)
        self._giving_up = False
        return True

    def _write_all(self, line: bytes) -> None:
        view = memoryview(line)
        while view:  # a nearly full disk takes part of a line, then raises ENOSPC on the rest
            view = view[os.write(self._fd, view) :]

    def _cut_back(self) -> None:
        """Drop a partial line: the reader would discard it, and the next line would land glued to it."""
        try:
            os.ftruncate(self._fd, self.offset)
        except OSError:
            pass  # retried before the next write (see _drain)

    def sync(self) -> None:
        """fsync; a failure is reported like a failed write, never raised."""
        with self._lock:
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    self.health.failed(exc, self.held, self.dropped)

    def swap(self, replacement: Path) -> None:
        """os.replace the file with `replacement` (a rewrite) and append to the new one."""
        with self._lock:
            os.replace(replacement, self.path)
            self.open()

    def truncate(self) -> None:
        """Empty the file and forget held lines."""
        with self._lock:
            self._held.clear()
            self._held_bytes = 0
            try:
                if self._fd is not None:
                    os.ftruncate(self._fd, 0)
                elif self.path.exists():
                    os.truncate(self.path, 0)
                self.offset = 0
            except OSError as exc:
                self.health.failed(exc)

    def close(self) -> None:
        with self._lock:
            if self._held:
                self.health.log.error("%s: %d line(s) could not be written before closing", self.path, self.held)
            self._close_fd()

    def _close_fd(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
