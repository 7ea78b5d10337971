"""The embedded store's file format: JSON lines, one line per sweep, appended and never rewritten in place.

A line is `{"ts": "2026-11-26T12:00:00.000000Z", "rows": [[service, s, latency_ms, http_status, error]]}`
with `s` one letter of STATUS_CODES and trailing nulls dropped, which keeps 10 services at a 40 s
interval well under 1 MB a day. A SIGKILL can at worst leave a partial last line, which the reader
drops; anything else unreadable is reported so the caller can move the file aside.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from ops.append_file import DECODE_ERRORS, whole_lines
from ops.history.rows import round_latency

STATUS_CODES = {"up": "u", "degraded": "g", "down": "d", "pending": "p", "maintenance": "m"}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
STATUSES = tuple(STATUS_CODES)  # the categories of the status column, in this order
STATUS_INDEX = {name: i for i, name in enumerate(STATUSES)}
NAN = float("nan")
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TS_PREFIX = '{"ts": "'  # every line starts so; retention compares the timestamp as text
# What a damaged line can raise: json.loads gives RecursionError on "[[[[...", arrays OverflowError.


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
            round_latency(latency),
            http_status,
            error,
        ]
        while row[-1] is None:
            row.pop()
        packed.append(row)
    line = json.dumps({"ts": format_ts(ts), "rows": packed}, separators=(", ", ": "), ensure_ascii=False)
    return (line + "\n").encode("utf-8")


class Columns:
    """Rows decoded into compact typed arrays (no Python object per row), ready for a DataFrame."""

    def __init__(self) -> None:
        self.ts_us = array("q")  # microseconds since the epoch, UTC
        self.service = array("i")  # index into self.services
        self.status = array("b")  # index into STATUSES
        self.latency_ms = array("d")  # NaN where there was no answer
        self.http_status = array("d")  # NaN where there was no HTTP answer
        self.error = array("i")  # index into self.errors, -1 for none
        self.services: dict[str, int] = {}
        self.errors: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ts_us)

    def add_line(self, record: dict) -> None:
        if not isinstance(record, dict) or not isinstance(record.get("rows"), list):
            raise ValueError("not a sweep")
        ts = datetime.strptime(record["ts"], TS_FORMAT).replace(tzinfo=UTC)
        self.add_rows(ts, [_parse_row(row) for row in record["rows"]])  # all valid before any is kept

    def add_rows(self, ts: datetime, rows: Iterable[tuple]) -> None:
        """Add (service, status, latency_ms, http_status, error) rows checked at `ts`."""
        stamp = round(ts.timestamp() * 1_000_000)
        for service, status, latency, http_status, error in rows:
            self.ts_us.append(stamp)
            self.service.append(self.services.setdefault(service, len(self.services)))
            self.status.append(STATUS_INDEX.get(status, STATUS_INDEX["pending"]))
            self.latency_ms.append(NAN if latency is None else latency)
            self.http_status.append(NAN if http_status is None else http_status)
            self.error.append(-1 if error is None else self.errors.setdefault(error, len(self.errors)))


def _parse_row(row: list) -> tuple:
    """A stored row, type-checked: a hand-edited file must fail here, not later in a view."""
    if not isinstance(row, list) or not 2 <= len(row) <= 5:
        raise ValueError(f"bad row {row!r}")
    service, code, *rest = row
    latency, http_status, error = rest + [None] * (3 - len(rest))
    if not isinstance(service, str) or not isinstance(code, str) or code not in STATUS_NAMES:
        raise ValueError(f"bad row {row!r}")
    if latency is not None and not (_is_number(latency) and 0 <= latency < 1e9):
        raise ValueError(f"bad latency {latency!r}")
    if http_status is not None and not (_is_integer(http_status) and 0 <= http_status <= 999):
        raise ValueError(f"bad http status {http_status!r}")
    if error is not None and not isinstance(error, str):
        raise ValueError(f"bad error {error!r}")
    return service, STATUS_NAMES[code], latency, http_status, error


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # JSON true is no latency


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class ReadReport:
    """What reading a history file found besides the rows."""

    bad_lines: int = 0
    torn_tail: bool = False  # a partial last line from a crash mid-write
    good_bytes: int = 0  # length of the file up to the end of the last complete line
    legacy: bool = False  # the original dashboard's JSON array, to be rewritten as lines


def read_lines(handle: BinaryIO, report: ReadReport, chunk_rows: int = 200_000) -> Iterator[Columns]:
    """Decode a history file line by line into column chunks, counting what could not be read."""
    columns = Columns()
    for raw in whole_lines(handle, report):
        try:
            columns.add_line(json.loads(raw))
        except DECODE_ERRORS:
            report.bad_lines += 1
            continue
        if len(columns) >= chunk_rows:
            yield columns
            columns = Columns()
    if len(columns):
        yield columns


def legacy_records(handle: BinaryIO) -> list[dict] | None:
    """The original dashboard's history (a JSON array of records), or None if this is not one."""
    start = handle.read(64).lstrip()
    handle.seek(0)
    if not start.startswith(b"["):
        return None
    try:
        records = json.load(handle)
    except (ValueError, RecursionError):  # "[[[[..." is no legacy file, just a damaged first line
        handle.seek(0)
        return None
    return records if isinstance(records, list) else None
