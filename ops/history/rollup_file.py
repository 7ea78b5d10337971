"""The rollups on disk: two JSON-lines files (minutes, hours), one line per closed bucket, appended.

Beside a history file `history.jsonl` live `history.rollup-minutes.jsonl` and `history.rollup-hours.jsonl`
(two files so the minutes' short retention rewrites a small file, never the 90 days of hours). Lines:

    {"names": ["api", "db", ...]}                      the services, in row order (written when it grows)
    {"grain": "hour", "start": "2026-11-26T12:00Z", "n": 1000, "names_crc": 123, "errors": [...],
     "entries": 21000, "crc": 456, "data": "<base64>"}  one closed bucket of the first n services

`data` is the bucket's columns as little-endian arrays, one after the other: status counts (n x 5
uint16, STATUSES order), failed, up, answered (uint16), latency sum (float64), min and max (float32),
last error (int32, 0 none, else 1 + index into "errors"); hours add the histogram packed sparse:
offsets (n+1 int32), bucket (uint8) and count (uint16) of `entries` entries. Binary columns keep 90
days of hours for 1,000 services loadable in seconds (JSON numbers would be ~10x slower to read); the
crc of the decoded bytes and of the names the rows refer to catch a damaged line.

Guarantees, as the history file's (ops/history/embedded_file.py): a sweep closes a bucket with one
O(1) append (ops/append_file.AppendFile: a full disk holds lines in memory, never a partial line);
a SIGKILL loses at most the open buckets, which are never written (the store rebuilds them from raw
rows from `Rollups.replay_from()`); a torn last line is cut and kept aside; unreadable lines move the
original aside with a warning and the readable buckets are rewritten (a full disk leaves it in place,
repaired at a later start); retention rewrites from memory via a temp file and os.replace.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ops.append_file import DECODE_ERRORS, AppendFile, WriteHealth, describe, whole_lines
from ops.history.buckets import BUCKETS
from ops.history.rollup import HOUR_KEEP, MINUTE_KEEP, Rollups
from ops.history.rollup_blocks import Block
from ops.history.rollup_ring import STATUSES

log = logging.getLogger(__name__)

GRAINS = {"minute": 60, "hour": 3600}
START_FORMAT = "%Y-%m-%dT%H:%MZ"
MAX_HELD_BYTES = 16 << 20  # lines held while the disk is full: ~5 h of minutes at 1,000 services
REWRITE_SLACK = 1 / 8  # expired lines may add this share of the retention before a rewrite drops them
_COLUMNS = (  # (Block field, dtype, values per service)
    ("status", "<u2", len(STATUSES)),
    ("failed", "<u2", 1),
    ("up", "<u2", 1),
    ("answered", "<u2", 1),
    ("latency_sum", "<f8", 1),
    ("latency_min", "<f4", 1),
    ("latency_max", "<f4", 1),
    ("error", "<i4", 1),
)
ROW_BYTES = sum(np.dtype(dtype).itemsize * width for _, dtype, width in _COLUMNS)


def names_crc(names: list[str]) -> int:
    return zlib.crc32("\n".join(names).encode("utf-8"))


def encode_names(names: list[str]) -> bytes:
    return (json.dumps({"names": names}, ensure_ascii=False) + "\n").encode("utf-8")


def encode_block(block: Block) -> bytes:
    """One line for one closed bucket."""
    parts = [np.ascontiguousarray(getattr(block, field), dtype) for field, dtype, _ in _COLUMNS]
    record = {
        "grain": block.grain,
        "start": datetime.fromtimestamp(block.start * GRAINS[block.grain], UTC).strftime(START_FORMAT),
        "n": len(block.services),
        "names_crc": names_crc(block.services),
        "errors": block.errors,
    }
    if block.hist is not None:
        offsets, buckets, counts = block.hist
        parts += [np.asarray(offsets, "<i4"), np.asarray(buckets, "u1"), np.asarray(counts, "<u2")]
        record["entries"] = len(buckets)
    payload = b"".join(part.tobytes() for part in parts)
    record["crc"] = zlib.crc32(payload)
    record["data"] = base64.b64encode(payload).decode("ascii")
    return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def decode_block(record: dict, names: list[str], crcs: dict[int, tuple[int, list[str]]]) -> Block:
    """A bucket line checked against the names in force; raises one of DECODE_ERRORS if damaged."""
    grain, n, errors = record["grain"], record["n"], record["errors"]
    if grain not in GRAINS or not isinstance(n, int) or not 0 <= n <= len(names):
        raise ValueError("bad grain or service count")
    if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
        raise ValueError("bad errors")
    if n not in crcs:  # one list per names line and n: Rollups.put maps a list it has seen at once
        crcs[n] = (names_crc(names[:n]), names[:n])
    crc, services = crcs[n]
    if record["names_crc"] != crc:
        raise ValueError("rows refer to other names")
    start = datetime.strptime(record["start"], START_FORMAT).replace(tzinfo=UTC)
    payload = base64.b64decode(record["data"], validate=True)
    entries = record.get("entries") if grain == "hour" else None
    expected = n * ROW_BYTES + (0 if entries is None else 4 * (n + 1) + 3 * entries)
    if len(payload) != expected or zlib.crc32(payload) != record["crc"]:
        raise ValueError("damaged data")
    columns, at = {}, 0
    for field, dtype, width in _COLUMNS:
        size = np.dtype(dtype).itemsize * width * n
        array = np.frombuffer(payload, dtype, width * n, at)
        columns[field] = array.reshape(n, width) if width > 1 else array
        at += size
    if not np.all((columns["error"] >= 0) & (columns["error"] <= len(errors))):
        raise ValueError("bad error index")
    hist = None
    if entries is not None:
        offsets = np.frombuffer(payload, "<i4", n + 1, at)
        buckets = np.frombuffer(payload, "u1", entries, at + 4 * (n + 1))
        counts = np.frombuffer(payload, "<u2", entries, at + 4 * (n + 1) + entries)
        if offsets[0] != 0 or offsets[-1] != entries or np.any(np.diff(offsets) < 0) or np.any(buckets >= BUCKETS):
            raise ValueError("bad histogram")
        hist = (offsets.copy(), buckets.copy(), counts.copy())  # copies: the line's payload can go
    number = int(start.timestamp()) // GRAINS[grain]
    return Block(grain, number, services, errors=errors, hist=hist, **columns)


@dataclass
class ReadReport:
    """What reading a rollup file found besides the buckets."""

    blocks: int = 0
    bad_lines: int = 0
    torn_tail: bool = False
    good_bytes: int = 0  # up to the end of the last complete line
    oldest: int | None = None  # bucket number of the oldest line read
    names: list[str] | None = None  # the names line in force at the end


def read_blocks(handle: BinaryIO, report: ReadReport) -> Iterator[Block]:
    """The buckets of a rollup file, counting what could not be read."""
    names: list[str] = []
    crcs: dict[int, tuple[int, list[str]]] = {}
    for raw in whole_lines(handle, report):
        try:
            record = json.loads(raw)
            if "names" in record:
                if not isinstance(record["names"], list) or not all(isinstance(x, str) for x in record["names"]):
                    raise ValueError("bad names")
                names, crcs = record["names"], {}
                report.names = names
                continue
            block = decode_block(record, names, crcs)
        except DECODE_ERRORS:
            report.bad_lines += 1
            continue
        report.blocks += 1
        report.oldest = block.start if report.oldest is None else min(report.oldest, block.start)
        yield block


class RollupFile:
    """One grain's file: load into Rollups, append closed buckets, rewrite for retention or repair."""

    def __init__(
        self, path: Path, grain: str, max_held_bytes: int = MAX_HELD_BYTES, health: WriteHealth | None = None
    ) -> None:
        self.path, self.grain = Path(path), grain
        health = health or WriteHealth(f"rollups ({grain}s)", log)
        self.out = AppendFile(self.path, health, max_held_bytes)
        self._names: list[str] = []  # the names line in force at the end of the file
        self._oldest: int | None = None  # the oldest bucket the file holds

    def load(self, rollups: Rollups) -> ReadReport:
        """Read the buckets into `rollups` (moving damage aside) and open for appending. Never raises."""
        report = ReadReport()
        try:
            with open(self.path, "rb") as handle:
                for block in read_blocks(handle, report):
                    if block.grain == self.grain:
                        rollups.put(block)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("%s: cannot read rollups (%s); moving it aside", self.path, exc)
            self._aside("corrupt", move=True)
        self._names, self._oldest = report.names or [], report.oldest
        if report.bad_lines:
            self._salvage(rollups, report)
        elif report.torn_tail:
            self._drop_torn_tail(report.good_bytes)
        self.out.open()  # a refusal (disk full) is reported; appends retry it
        return report

    def append(self, blocks: list[Block]) -> None:
        """One line per closed bucket of this grain (and a names line first when services were added)."""
        for block in blocks:
            if block.grain != self.grain:
                continue
            known = self._names[: len(block.services)]
            if len(block.services) > len(self._names) or known != block.services:
                self.out.append(encode_names(block.services))
                self._names = block.services
            self.out.append(encode_block(block))
            self._oldest = block.start if self._oldest is None else self._oldest

    def retention(self, rollups: Rollups, keep_buckets: float) -> bool:
        """Rewrite once expired lines pass REWRITE_SLACK of the retention; True if it did."""
        ring = rollups.minutes if self.grain == "minute" else rollups.hours
        if self._oldest is None or self._oldest >= ring.floor - keep_buckets * REWRITE_SLACK:
            return False
        return self.rewrite(rollups)

    def rewrite(self, rollups: Rollups) -> bool:
        """Replace the file with what `rollups` holds of this grain (temp file + os.replace)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            oldest = self._write(tmp, rollups)
            self.out.swap(tmp)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning("%s: cannot rewrite the rollups (%s); kept as they are", self.path, describe(exc))
            return False
        self._names, self._oldest = list(rollups.services), oldest
        return True

    def _write(self, tmp: Path, rollups: Rollups) -> int | None:
        ring = rollups.minutes if self.grain == "minute" else rollups.hours
        numbers = np.sort(ring.label[ring.label >= 0])
        with open(tmp, "wb") as handle:
            handle.write(encode_names(list(rollups.services)))
            for number in numbers:
                if number <= ring.closed:  # the open bucket is rebuilt from raw rows, never written
                    handle.write(encode_block(rollups.block(self.grain, int(number))))
            handle.flush()
            os.fsync(handle.fileno())
        closed = numbers[numbers <= ring.closed]
        return int(closed[0]) if len(closed) else None

    def _salvage(self, rollups: Rollups, report: ReadReport) -> None:
        """Keep the original aside, rewrite the readable buckets: warn loudly, lose nothing."""
        try:
            aside = self._aside("corrupt", move=False)
        except OSError as exc:
            log.warning("%s: %d unreadable line(s) left in place (%s)", self.path, report.bad_lines, describe(exc))
            if report.torn_tail:
                self._drop_torn_tail(report.good_bytes)
            return
        if self.rewrite(rollups):
            log.warning(
                "%s has %d unreadable line(s): original moved to %s, %d readable bucket(s) kept",
                self.path, report.bad_lines, aside, report.blocks,
            )  # fmt: skip
        else:
            aside.unlink(missing_ok=True)

    def _drop_torn_tail(self, good_bytes: int) -> None:
        """A kill mid-write left a partial last line: keep it aside, cut the file after the last good one."""
        aside = self._aside_path("torn")
        with open(self.path, "r+b") as handle:
            handle.seek(good_bytes)
            try:
                aside.write_bytes(handle.read())
                kept = f"kept in {aside}"
            except OSError as exc:
                aside.unlink(missing_ok=True)
                kept = f"no copy kept ({describe(exc)})"
            handle.truncate(good_bytes)
        log.warning("%s: dropped a partial last line (the process stopped mid-write); %s", self.path, kept)

    def _aside_path(self, kind: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")

    def _aside(self, kind: str, move: bool) -> Path:
        aside = self._aside_path(kind)
        if move:
            os.replace(self.path, aside)
            return aside
        try:
            os.link(self.path, aside)  # needs no free space
        except OSError:
            try:
                shutil.copy2(self.path, aside)
            except OSError:
                aside.unlink(missing_ok=True)
                raise
        return aside


class RollupFiles:
    """The minute and hour files beside a history file: what the embedded store calls."""

    def __init__(self, history_path: str | os.PathLike[str], health: WriteHealth | None = None) -> None:
        """`health`: the history file's, so one full disk is one report and one banner (else their own)."""
        path = Path(history_path)
        self.files = [RollupFile(path.with_name(f"{path.stem}.rollup-{g}s.jsonl"), g, health=health) for g in GRAINS]

    def load(self, rollups: Rollups) -> list[ReadReport]:
        """Fill `rollups` from both files; then feed raw rows from rollups.replay_from() and call append()."""
        return [file.load(rollups) for file in self.files]

    def append(self, rollups: Rollups) -> None:
        """Write the buckets closed since the last call (after each Rollups.add)."""
        blocks = rollups.closed_blocks()
        if blocks:
            for file in self.files:
                file.append(blocks)

    def retention(
        self, rollups: Rollups, minute_keep: timedelta = MINUTE_KEEP, hour_keep: timedelta = HOUR_KEEP
    ) -> list[str]:
        """After Rollups.retention (same keeps): rewrite the files whose expired lines piled up; their grains."""
        keep = {"minute": minute_keep.total_seconds() / 60, "hour": hour_keep.total_seconds() / 3600}
        return [file.grain for file in self.files if file.retention(rollups, keep[file.grain])]

    def flush(self) -> None:
        for file in self.files:
            file.out.sync()

    def close(self) -> None:
        for file in self.files:
            file.out.close()

    def status(self) -> dict:
        """{"ok", "error", "since"} of the first file that fails to write, else ok."""
        failing = [file.out.health for file in self.files if not file.out.health.ok]
        return (failing or [self.files[0].out.health])[0].status()
