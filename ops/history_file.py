"""The on-disk history format: JSON lines, one line per sweep, appended and never rewritten in place.

A line is `{"ts": "2026-11-26T12:00:00.000000Z", "rows": [[service, s, latency_ms, http_status, error]]}`
with `s` one letter of STATUS_CODES and trailing nulls dropped, which keeps 10 services at a 40 s
interval well under 1 MB a day. A SIGKILL can at worst leave a partial last line, which the reader
drops; anything else unreadable is reported so the caller can move the file aside.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

STATUS_CODES = {"up": "u", "degraded": "g", "down": "d", "pending": "p", "maintenance": "m"}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TS_PREFIX = '{"ts": "'  # every line starts so; retention compares the timestamp as text


def format_ts(ts: datetime) -> str:
    """Fixed-width UTC text, so timestamps sort as strings."""
    return ts.astimezone(UTC).strftime(TS_FORMAT)


def encode_sweep(ts: datetime, rows: Iterable[tuple]) -> bytes:
    """One line for one sweep; rows are (service, status, latency_ms, http_status, error)."""
    packed = []
    for service, status, latency, http_status, error in rows:
        row = [
            service,
            STATUS_CODES.get(status, "p"),
            None if latency is None else round(latency, 1),
            http_status,
            error,
        ]
        while row[-1] is None:
            row.pop()
        packed.append(row)
    line = json.dumps({"ts": format_ts(ts), "rows": packed}, separators=(", ", ": "), ensure_ascii=False)
    return (line + "\n").encode("utf-8")


@dataclass
class Columns:
    """Rows decoded into column lists, ready for a DataFrame; strings are interned to share memory."""

    ts: list[str] = field(default_factory=list)
    service: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    latency_ms: list[float | None] = field(default_factory=list)
    http_status: list[int | None] = field(default_factory=list)
    error: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ts)

    def add_line(self, record: dict) -> None:
        ts = sys.intern(record["ts"])
        datetime.strptime(ts, TS_FORMAT)
        self.add_rows(ts, [_parse_row(row) for row in record["rows"]])  # all valid before any is kept

    def add_rows(self, ts: str, rows: Iterable[tuple]) -> None:
        """Add (service, status, latency_ms, http_status, error) rows checked at `ts`."""
        for service, status, latency, http_status, error in rows:
            self.ts.append(ts)
            self.service.append(service)
            self.status.append(status)
            self.latency_ms.append(latency)
            self.http_status.append(http_status)
            self.error.append(error)


def _parse_row(row: list) -> tuple:
    service, code, *rest = row
    rest += [None] * (3 - len(rest))
    latency, http_status, error = rest[:3]
    if not isinstance(service, str) or code not in STATUS_NAMES:
        raise ValueError(f"bad row {row!r}")
    if latency is not None and not isinstance(latency, (int, float)):
        raise ValueError(f"bad latency {latency!r}")
    if http_status is not None and not isinstance(http_status, int):
        raise ValueError(f"bad http status {http_status!r}")
    error = None if error is None else sys.intern(str(error))
    return sys.intern(service), STATUS_NAMES[code], latency, http_status, error


@dataclass
class ReadReport:
    """What reading a history file found besides the rows."""

    bad_lines: int = 0
    torn_tail: bool = False  # a partial last line from a crash mid-write
    good_bytes: int = 0  # length of the file up to the end of the last complete line
    legacy: bool = False  # the original dashboard's JSON array, to be rewritten as lines


def read_lines(data: bytes, report: ReadReport, chunk_rows: int = 100_000) -> Iterator[Columns]:
    """Decode history bytes into column chunks, counting what could not be read."""
    columns = Columns()
    position = 0
    for raw in data.splitlines(keepends=True):
        position += len(raw)
        if not raw.endswith(b"\n"):
            report.torn_tail = True  # only the very last piece can lack its newline
            break
        report.good_bytes = position
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            columns.add_line(record)
        except (ValueError, TypeError, KeyError, AttributeError):
            report.bad_lines += 1
            continue
        if len(columns) >= chunk_rows:
            yield columns
            columns = Columns()
    if len(columns):
        yield columns


def legacy_records(data: bytes) -> list[dict] | None:
    """The original dashboard's history (a JSON array of records), or None if this is not one."""
    if not data.lstrip().startswith(b"["):
        return None
    try:
        records = json.loads(data)
    except ValueError:
        return None
    return records if isinstance(records, list) else None
