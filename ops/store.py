"""The check history: a pandas frame in memory, persisted by appending one JSON line per sweep."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from ops import history_file as hf
from ops.append_file import AppendFile, WriteHealth, describe
from ops.history_frame import (
    concat_frames,
    empty_frame,
    frame_from_columns,
    legacy_columns,
    release_freed_memory,
    rows_of,
)
from ops.probes import ProbeResult

log = logging.getLogger(__name__)

COMPACT_EVERY = timedelta(hours=1)
# Sweeps kept for the file while it cannot be written (they stay in the frame regardless): 8 MiB is
# about a week of 10 services at a 40 s interval; older ones beyond that are given up on, oldest first.
MAX_HELD_BYTES = 8 << 20
MERGE_EVERY = 64  # sweeps kept as columns before they are merged into the frame (by frame() or append)


class HistoryStore:
    """Append-only history with retention; pandas stays inside this class."""

    def __init__(self, path: str | os.PathLike[str] | None, retention: timedelta) -> None:
        self.path = Path(path) if path else None
        self.retention = retention
        self._lock = threading.RLock()
        self._frame = empty_frame()
        self._pending: list[hf.Columns] = []
        self._out: AppendFile | None = None  # the file, from load() to close(); memory only without it
        self._last_compaction = datetime.now(UTC) - COMPACT_EVERY  # the first append compacts what load left
        self._compactor: threading.Thread | None = None
        self._compact_lock = threading.Lock()
        # Bumped whenever rows leave memory other than by being read (load, retention), so a reader
        # that keeps running totals (ops/figures.py) knows to start over from the frame.
        self.generation = 0

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> int:
        """Read the history file (moving damage aside) and open it for appending."""
        if self.path is None:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        frames, report = self._read()
        if report.bad_lines or report.legacy:
            self._salvage_or_keep(frames, report)
        elif report.torn_tail:
            self._drop_torn_tail(report.good_bytes)
        frame = concat_frames(frames)
        start = int(frame["ts"].searchsorted(pd.Timestamp(datetime.now(UTC) - self.retention)))
        self._frame = frame.iloc[start:].reset_index(drop=True)
        self.generation += 1
        del frames, frame
        release_freed_memory()
        self._out = AppendFile(self.path, WriteHealth("history", log), MAX_HELD_BYTES)
        self._out.open()  # a refusal (disk full) is reported; appends retry it
        log.info("history: %d rows loaded from %s", len(self._frame), self.path)
        return len(self._frame)

    def _read(self) -> tuple[list[pd.DataFrame], hf.ReadReport]:
        report = hf.ReadReport()
        try:
            with open(self.path, "rb") as handle:
                legacy = hf.legacy_records(handle)
                if legacy is not None:
                    report.legacy = True  # rewritten in today's format; the original is kept aside
                    return [frame_from_columns(legacy_columns(legacy))], report
                return [frame_from_columns(c) for c in hf.read_lines(handle, report)], report
        except FileNotFoundError:
            return [], report
        except OSError as exc:
            log.warning("%s: cannot read history (%s); moving it aside", self.path, exc)
            self._move_aside()
            return [], report

    def _salvage_or_keep(self, frames: list[pd.DataFrame], report: hf.ReadReport) -> None:
        """Salvage; on a full disk keep the file as it is (lines stay lines), or move a legacy one aside."""
        try:
            self._salvage(frames, report)
            return
        except OSError as exc:
            self.path.with_name(self.path.name + ".tmp").unlink(missing_ok=True)
            why = describe(exc)
        if report.legacy:  # new lines cannot go after a JSON array: keep it whole, start a new file
            aside = self._move_aside()
            log.warning("%s: cannot convert the old format (%s): kept whole at %s", self.path, why, aside)
            return
        log.warning(
            "%s: %d unreadable line(s) left in place (%s); repaired at a later start", self.path, report.bad_lines, why
        )
        if report.torn_tail:
            self._drop_torn_tail(report.good_bytes)

    def _salvage(self, frames: list[pd.DataFrame], report: hf.ReadReport) -> None:
        """Keep the original aside, rewrite the readable rows: warn loudly, lose nothing."""
        tmp = self._write_tmp(concat_frames(frames))  # replacement first, then a copy aside, then the swap:
        aside = self._aside_path("corrupt")  # a kill at any step leaves a loadable file and the original
        try:
            os.link(self.path, aside)  # needs no free space
        except OSError:
            try:
                shutil.copy2(self.path, aside)
            except OSError:
                aside.unlink(missing_ok=True)
                raise
        os.replace(tmp, self.path)
        kept = sum(len(f) for f in frames)
        why = "is in the original dashboard's format" if report.legacy else f"has {report.bad_lines} unreadable line(s)"
        log.warning("%s %s: original moved to %s, %d readable rows kept", self.path, why, aside, kept)

    def _drop_torn_tail(self, good_bytes: int) -> None:
        """A crash mid-write left a partial last line: keep it aside, cut the file after the last good one."""
        aside = self._aside_path("torn")
        with open(self.path, "r+b") as handle:
            handle.seek(good_bytes)
            try:
                aside.write_bytes(handle.read())
                kept = f"kept in {aside}"
            except OSError as exc:  # a full disk: the piece is unreadable anyway, and appends need the cut
                aside.unlink(missing_ok=True)
                kept = f"no copy kept ({describe(exc)})"
            handle.truncate(good_bytes)
        log.warning("%s: dropped a partial last line (the process stopped mid-write); %s", self.path, kept)

    def _aside_path(self, kind: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")

    def _move_aside(self) -> Path:
        aside = self._aside_path("corrupt")
        os.replace(self.path, aside)
        return aside

    def _write_tmp(self, frame: pd.DataFrame) -> Path:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as handle:
            for ts, group in frame.groupby("ts", sort=True, observed=True):
                handle.write(hf.encode_sweep(ts.to_pydatetime(), rows_of(group)))
            handle.flush()
            os.fsync(handle.fileno())
        return tmp

    # -- writing -------------------------------------------------------------------------------
    def append(self, ts: datetime, results: Sequence[ProbeResult]) -> None:
        """Persist one sweep (one appended line) and keep it in memory."""
        rows = [(r.service, r.status, _round(r.latency_ms), r.http_status, r.error) for r in results]
        if not rows:
            return
        line = hf.encode_sweep(ts, rows)
        columns = hf.Columns()
        columns.add_rows(ts, rows)
        with self._lock:
            self._pending.append(columns)  # memory first: the views go on even when the disk is full
            if self._out is not None:
                self._out.append(line)  # never raises; in the kernel after this, a SIGKILL loses nothing
            merge = len(self._pending) >= MERGE_EVERY
        if merge:  # now and then, not every sweep: a merge copies the whole frame
            self.frame()
        self._maybe_compact()

    def storage_status(self) -> dict:
        """{"ok", "error", "since", "unsaved_sweeps"}: whether sweeps reach the file (for the snapshot)."""
        if self._out is None:
            return {"ok": True, "error": None, "since": None, "unsaved_sweeps": 0}
        return {**self._out.health.status(), "unsaved_sweeps": self._out.held}

    def flush(self) -> None:
        """fsync the file (a failure is reported, not raised)."""
        if self._out is not None:
            self._out.sync()

    def close(self) -> None:
        """Wait for a running compaction, flush and close the file."""
        if self._compactor is not None:
            self._compactor.join(timeout=30)
        with self._lock:
            out, self._out = self._out, None
            if out is not None:
                out.sync()
                out.close()

    # -- reading -------------------------------------------------------------------------------
    def frame(self, since: datetime | None = None, service: str | None = None) -> pd.DataFrame:
        """The history (oldest first), optionally from `since` and for one service."""
        with self._lock:
            if self._pending:
                self._frame = concat_frames([self._frame, *(frame_from_columns(c) for c in self._pending)])
                self._pending = []
            frame = self._frame
        if since is not None:  # rows are in time order: a slice, not a copy
            frame = frame.iloc[int(frame["ts"].searchsorted(pd.Timestamp(since))) :]
        if service is not None:
            frame = frame[frame["service"] == service]
        return frame

    def between(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Rows with start <= ts < end, oldest first, without merging the pending sweeps into the frame
        (which copies the whole history): a sweep reads the few rows leaving its windows this way."""
        with self._lock:
            frame, pending = self._frame, list(self._pending)
        first, last = (int(frame["ts"].searchsorted(pd.Timestamp(t))) for t in (start, end))
        parts = [frame.iloc[first:last]]
        first_us, end_us = round(start.timestamp() * 1_000_000), round(end.timestamp() * 1_000_000)
        for columns in pending:  # sweeps not merged yet; each holds one timestamp, so most are skipped whole
            if len(columns) and columns.ts_us[0] < end_us and columns.ts_us[-1] >= first_us:
                chunk = frame_from_columns(columns)
                parts.append(chunk[(chunk["ts"] >= pd.Timestamp(start)) & (chunk["ts"] < pd.Timestamp(end))])
        return concat_frames(parts)

    def __len__(self) -> int:
        with self._lock:
            return len(self._frame) + sum(len(c) for c in self._pending)

    # -- retention -----------------------------------------------------------------------------
    def _maybe_compact(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_compaction < COMPACT_EVERY or (self._compactor and self._compactor.is_alive()):
            return
        self._last_compaction = now
        self._compactor = threading.Thread(target=self.compact, name="history-compactor", daemon=True)
        self._compactor.start()

    def compact(self) -> int:
        """Drop rows older than the retention, in memory and on disk; return rows dropped from memory."""
        with self._compact_lock:  # one compaction at a time: the timer's and an explicit call
            self._last_compaction = datetime.now(UTC)
            return self._compact(self._last_compaction - self.retention)

    def _compact(self, cutoff: datetime) -> int:
        self.frame()  # merge what is pending first
        with self._lock:
            dropped = int(self._frame["ts"].searchsorted(pd.Timestamp(cutoff)))
            if dropped:
                self._frame = self._frame.iloc[dropped:].reset_index(drop=True)
                self.generation += 1
            out = self._out
            offset = out.offset if out is not None else 0
        cutoff_text = hf.format_ts(cutoff)
        # While writes fail, a rewrite would too: the file is trimmed by the first compaction after.
        if out is not None and out.health.ok and self._first_line_stamp() < cutoff_text:
            try:
                self._rewrite_from(out, cutoff_text, offset)
            except OSError as exc:
                self.path.with_name(self.path.name + ".tmp").unlink(missing_ok=True)
                log.warning("%s: old rows not trimmed from the file this time: %s", self.path, exc)
        release_freed_memory()
        return dropped

    def _first_line_stamp(self) -> str:
        try:
            with open(self.path, "rb") as handle:
                line = handle.readline()
        except OSError:
            return "~"
        return line[len(hf.TS_PREFIX) : len(hf.TS_PREFIX) + 27].decode("ascii", "replace") if line else "~"

    def _rewrite_from(self, out: AppendFile, cutoff_text: str, offset: int) -> None:
        """Copy lines newer than the cutoff to a new file without holding the lock for long."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(self.path, "rb") as source, open(tmp, "wb") as target:
            for line in iter(lambda: source.readline() if source.tell() < offset else b"", b""):
                stamp = line[len(hf.TS_PREFIX) : len(hf.TS_PREFIX) + len(cutoff_text)].decode("ascii", "replace")
                if stamp >= cutoff_text:
                    target.write(line)
            with self._lock:  # lines appended while we copied go over too, then the swap
                source.seek(offset)
                target.write(source.read(max(0, out.offset - offset)))  # whole lines only
                target.flush()
                os.fsync(target.fileno())
                out.swap(tmp)


def _round(latency: float | None) -> float | None:
    return None if latency is None else round(latency, 1)  # what the file keeps, so memory agrees
