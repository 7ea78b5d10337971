"""Log records as JSON lines for the log file (stderr stays human-readable)."""

from __future__ import annotations

import errno
import json
import logging
import logging.handlers
import os
import sys
import time
from datetime import UTC, datetime

# Everything a LogRecord carries by itself; any other attribute came in through `extra=`.
STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, thread, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRS and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # default=str: an extra field that JSON cannot encode is written as its str(), never dropped.
        return json.dumps(entry, default=str, ensure_ascii=False)


class DiskFullSafeFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file for a disk that can fill up.

    logging.Handler.handleError prints "--- Logging error ---" and a traceback to stderr for every
    record that fails, which on a full disk is hundreds of lines a second. Here a failed write is
    cut back to the last whole line (the file stays JSON lines), the record is dropped, stderr gets
    one line a minute at most, and the next record simply tries again.
    """

    report_every_s = 60.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lost = 0  # records dropped since writing last worked
        self._last_report = -self.report_every_s - 1.0

    def emit(self, record: logging.LogRecord) -> None:
        start = None
        try:
            if self.shouldRollover(record):  # opens the stream if it is closed
                self.doRollover()
            if self.stream is None:
                self.stream = self._open()
            start = os.fstat(self.stream.fileno()).st_size  # flushed after each record: nothing buffered
            self.stream.write(self.format(record) + self.terminator)
            self.stream.flush()
        except OSError as exc:
            self._drop(start)
            self._report(exc)
            return
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - a formatting bug: logging's own report, as usual
            self.handleError(record)
            return
        if self.lost:
            self._say(f"log file {self.baseFilename} is being written again ({self.lost} record(s) lost)")
            self.lost = 0

    def _drop(self, start: int | None) -> None:
        """Close the stream (its unwritten bytes go with it), then cut any partial line off the file."""
        self.lost += 1
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
        if start is not None:
            try:
                os.truncate(self.baseFilename, start)
            except OSError:
                pass

    def _report(self, exc: OSError) -> None:
        now = time.monotonic()
        if now - self._last_report >= self.report_every_s:
            self._last_report = now
            why = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
            self._say(f"log file {self.baseFilename} is not being written: {why} ({exc}); records are dropped")

    def _say(self, text: str) -> None:
        try:
            sys.stderr.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} ERROR {__name__}: {text}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def json_file_handler(path, max_bytes: int = 5_000_000, backups: int = 3) -> logging.Handler:
    """The JSON-lines log file, rotated, safe on a full disk (what `python -m dash_app` logs to)."""
    handler = DiskFullSafeFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    return handler
