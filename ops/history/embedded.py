"""The embedded history store: raw checks in a pandas frame and a JSON-lines file, plus rollups.

The default store, with no server. Each sweep is one appended line (a kill leaves at worst a torn last
line, cut at the next start), damage is moved aside at load (ops/history/embedded_repair.py), a full
disk holds sweeps until it frees up, and an hourly compaction drops raw rows older than
`raw_retention` through a temp file and os.replace. Every sweep is also folded into per-minute and
per-hour rollups kept for `retention` (ops/history/embedded_rollups.py, files with the same
guarantees).

Memory. The frame costs ~27 bytes a raw row (int64 time, categorical codes, two float64), and a merge
copies it, so 48 h of raw rows at 1,000 services and 10 s (17 M rows) would need ~0.9 GiB at peak.
So the frame holds only the last `memory` of raw rows (open.py sizes it from the fleet: all of the
raw retention for a small fleet, a few hours at 1,000 services; see MAX_MEMORY_ROWS); older raw rows
stay in the file. ops/figures.py keeps the windows within `memory` running from raw rows and asks the
store for the longer ones, so its 24 h and 7 d figures at 1,000 services come from the rollups.

Where each query is answered: ops/history/embedded_reads.py (the named queries, a mixin of this store).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ops.append_file import AppendFile, WriteHealth
from ops.history import embedded_file as hf
from ops.history import embedded_queries as q
from ops.history.embedded_compact import first_line_stamp, rewrite_from
from ops.history.embedded_frame import (
    concat_frames,
    empty_frame,
    epoch_us,
    frame_from_columns,
    release_freed_memory,
)
from ops.history.embedded_reads import EmbeddedReads
from ops.history.embedded_repair import read_history, tmp_path
from ops.history.embedded_rollups import StoreRollups
from ops.history.rows import CheckRow, round_latency
from ops.probes import ProbeResult

log = logging.getLogger(__name__)

COMPACT_EVERY = timedelta(hours=1)
# Sweeps kept for the file while it cannot be written (they stay in the frame regardless): 8 MiB is
# about a week of 10 services at a 40 s interval; older ones beyond that are given up on, oldest first.
MAX_HELD_BYTES = 8 << 20
MERGE_EVERY = 64  # sweeps kept as columns before they are merged into the frame (by frame() or append)
DEFAULT_RETENTION = timedelta(days=90)  # the rollups' when a caller gives one retention (the raw one)
MAX_MEMORY_ROWS = 1_000_000  # raw rows the frame is sized for (~27 MiB, twice that during a merge)
MIN_MEMORY = timedelta(hours=2)  # the 1 h figures, sparklines and details, with an hour's compaction lag


def memory_for(raw_retention: timedelta, checks_per_hour: float) -> timedelta:
    """How much raw history to hold in memory: all of it while it stays under MAX_MEMORY_ROWS, else
    whole hours that do (never under MIN_MEMORY)."""
    hours = MAX_MEMORY_ROWS / max(checks_per_hour, 1.0)
    return min(raw_retention, max(MIN_MEMORY, timedelta(hours=int(hours))))


class EmbeddedStore(EmbeddedReads):
    """Append-only history with retention over one JSON-lines file (or memory only, with no path)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        raw_retention: timedelta,
        retention: timedelta | None = None,
        *,
        memory: timedelta | None = None,
    ) -> None:
        self.path = Path(path) if path else None
        self.raw_retention = raw_retention
        self.retention = max(retention or DEFAULT_RETENTION, raw_retention)
        # Without a file nothing could be read back: memory holds all of the raw retention then.
        self.memory = raw_retention if memory is None or self.path is None else min(memory, raw_retention)
        self._lock = threading.RLock()
        self._frame = empty_frame()
        self._pending: list[hf.Columns] = []
        self._memory_from: datetime | None = None  # every raw row from then on is in the frame (None: all)
        self._raw_from: datetime | None = None  # raw rows before it are expired (the file may lag)
        self._cold = (np.zeros(0, np.int64), np.zeros(0, np.int64))  # (stamp µs, rows) in the file only
        self._health = WriteHealth("history", log)
        # The rollup files keep their own health: shared, a rollup file with nothing to write marked
        # "saved again" while the history's line was refused, and the full-disk banner went away.
        self._rollups = StoreRollups(self.path, self.retention)
        self._out: AppendFile | None = None  # the file, from load() to close(); memory only without it
        self._last_compaction = datetime.now(UTC) - COMPACT_EVERY  # the first append compacts what load left
        self._compactor: threading.Thread | None = None
        self._compact_lock = threading.Lock()
        self.generation = 0  # see HistoryStore.generation

    # -- life cycle ----------------------------------------------------------------------------
    def load(self) -> int:
        """Read the rollups and the history file (moving damage aside) and open them for appending."""
        if self.path is None:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        with self._lock:
            self._read_file(now)
            self.generation += 1
        release_freed_memory()
        self._out = AppendFile(self.path, self._health, MAX_HELD_BYTES)
        self._out.open()  # a refusal (disk full) is reported; appends retry it
        cold = int(self._cold[1].sum())
        log.info("history: %d rows loaded from %s (%d more in the file only)", len(self._frame), self.path, cold)
        return len(self)

    def _read_file(self, now: datetime) -> None:
        """Fill the rollups (files, then raw rows from where they end), the frame and the cold counts."""
        spans = (self.raw_retention, self.memory, self.retention)
        raw_cut, memory_cut, rollup_cut = (pd.Timestamp(now - span) for span in spans)
        replay = self._rollups.load()
        replay = rollup_cut if replay is None else max(pd.Timestamp(replay), rollup_cut)
        frames, cold = [], []

        def consume(chunk: pd.DataFrame) -> None:
            stamps = chunk["ts"]
            if stamps.max() >= replay:  # the open buckets (every bucket, without rollup files)
                self._rollups.replay(chunk[stamps >= replay])
            frames.append(chunk[stamps >= memory_cut])
            cold.append(_sweep_counts(chunk[(stamps >= raw_cut) & (stamps < memory_cut)]))  # counts, not rows

        read_history(self.path, consume)
        self._rollups.retention(now)
        self._frame = concat_frames(frames)
        stamps, counts = (np.concatenate([c[k] for c in cold] or [np.zeros(0, np.int64)]) for k in (0, 1))
        order = np.argsort(stamps, kind="stable")
        self._cold = (stamps[order], counts[order])
        self._pending = []
        self._memory_from, self._raw_from = now - self.memory, now - self.raw_retention

    def close(self) -> None:
        """Wait for a running compaction, flush and close the files. Idempotent."""
        if self._compactor is not None:
            self._compactor.join(timeout=30)
        with self._lock:
            out, self._out = self._out, None
            if out is not None:
                out.sync()
                out.close()
                self._rollups.flush()
                self._rollups.close()

    def flush(self) -> None:
        """fsync the files (a failure is reported, not raised)."""
        if self._out is not None:
            self._out.sync()
            with self._lock:
                self._rollups.flush()

    def storage_status(self) -> dict:
        """{"ok", "error", "since", "unsaved_sweeps"}: whether sweeps reach the files (for the snapshot)."""
        if self._out is None:
            return {"ok": True, "error": None, "since": None, "unsaved_sweeps": 0}
        status = self._out.health.status()
        rollups = self._rollups.status()
        if status["ok"] and rollups is not None and not rollups["ok"]:
            status = rollups
        return {**status, "unsaved_sweeps": self._out.held}

    def __len__(self) -> int:
        with self._lock:
            return len(self._frame) + sum(len(c) for c in self._pending) + int(self._cold[1].sum())

    # -- writing -------------------------------------------------------------------------------
    def append(self, ts: datetime, results: Sequence[ProbeResult]) -> None:
        """Persist one sweep (one appended line), keep it in memory and fold it into the rollups."""
        rows = [(r.service, r.status, round_latency(r.latency_ms), r.http_status, r.error) for r in results]
        if not rows:
            return
        line = hf.encode_sweep(ts, rows)
        columns = hf.Columns()
        columns.add_rows(ts, rows)
        with self._lock:
            self._pending.append(columns)  # memory first: the views go on even when the disk is full
            if self._out is not None:
                self._out.append(line)  # never raises; in the kernel after this, a SIGKILL loses nothing
            self._rollups.add(ts, [CheckRow(ts, *row) for row in rows])
            merge = len(self._pending) >= MERGE_EVERY
        if merge:  # now and then, not every sweep: a merge copies the whole frame
            self.frame()
            release_freed_memory()  # the old copy's pages go back to the OS, not to the heap's high-water
        self._maybe_compact()

    def drop_expired(self, now: datetime) -> dict[str, int]:
        """Drop raw rows older than now - raw_retention (in memory and in the file), rows older than
        now - memory from memory only, and aggregates past the retention: {"raw", "minute", "hour"}."""
        with self._compact_lock:  # one compaction at a time: the timer's and an explicit call
            self._last_compaction = datetime.now(UTC)
            raw = self._compact(now)
            with self._lock:
                return {"raw": raw, **self._rollups.retention(now)}

    def compact(self) -> int:
        """drop_expired() as of now; the raw rows dropped."""
        return self.drop_expired(datetime.now(UTC))["raw"]

    def _maybe_compact(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_compaction < COMPACT_EVERY or (self._compactor and self._compactor.is_alive()):
            return
        self._last_compaction = now
        self._compactor = threading.Thread(target=self.compact, name="history-compactor", daemon=True)
        self._compactor.start()

    def _compact(self, now: datetime) -> int:
        cutoff, memory_cut = now - self.raw_retention, now - self.memory
        self.frame()  # merge what is pending first
        with self._lock:
            leaving = q.start_of(self._frame, memory_cut)
            expired = q.start_of(self._frame, cutoff)
            stamps, counts = self._cold
            if leaving > expired:  # still within the raw retention: the file keeps them
                more_stamps, more_counts = _sweep_counts(self._frame.iloc[expired:leaving])
                stamps, counts = np.concatenate([stamps, more_stamps]), np.concatenate([counts, more_counts])
            cold_expired = int(np.searchsorted(stamps, round(cutoff.timestamp() * 1_000_000)))
            dropped = expired + int(counts[:cold_expired].sum())
            self._cold = (stamps[cold_expired:], counts[cold_expired:])
            if leaving:
                self._frame = self._frame.iloc[leaving:].reset_index(drop=True)
            if dropped:
                self.generation += 1
            self._memory_from = max(self._memory_from or memory_cut, memory_cut)
            self._raw_from = max(self._raw_from or cutoff, cutoff)
            out = self._out
            offset = out.offset if out is not None else 0
        cutoff_text = hf.format_ts(cutoff)
        # While writes fail, a rewrite would too: the file is trimmed by the first compaction after.
        if out is not None and out.health.ok and first_line_stamp(self.path) < cutoff_text:
            try:
                rewrite_from(self.path, out, cutoff_text, offset, self._lock)
            except OSError as exc:
                tmp_path(self.path).unlink(missing_ok=True)
                log.warning("%s: old rows not trimmed from the file this time: %s", self.path, exc)
        release_freed_memory()
        return dropped

    # -- the frame (inside this store only; tests may read it) ---------------------------------
    def frame(self, since: datetime | None = None, service: str | None = None) -> pd.DataFrame:
        """The history (oldest first), optionally from `since` and for one service."""
        with self._lock:
            if self._pending:
                self._frame = concat_frames([self._frame, *(frame_from_columns(c) for c in self._pending)])
                self._pending = []
            frame = self._frame
        if since is not None:  # rows are in time order: a slice, not a copy
            frame = frame.iloc[q.start_of(frame, since) :]
        if service is not None:
            frame = frame[frame["service"] == service]
        return frame

    def between(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Rows with start <= ts < end, without merging the pending sweeps into the frame (which copies
        the whole history): a sweep reads the few rows leaving its windows this way."""
        with self._lock:
            frame, pending = self._frame, list(self._pending)
        parts = [frame.iloc[q.start_of(frame, start) : q.start_of(frame, end)]]
        first_us, end_us = round(start.timestamp() * 1_000_000), round(end.timestamp() * 1_000_000)
        for columns in pending:  # sweeps not merged yet; each holds one timestamp, so most are skipped whole
            if len(columns) and columns.ts_us[0] < end_us and columns.ts_us[-1] >= first_us:
                chunk = frame_from_columns(columns)
                parts.append(chunk[(chunk["ts"] >= pd.Timestamp(start)) & (chunk["ts"] < pd.Timestamp(end))])
        return concat_frames(parts)


def _sweep_counts(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(each timestamp in µs, its rows), ascending."""
    if frame.empty:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    stamps, counts = np.unique(epoch_us(frame["ts"]), return_counts=True)
    return stamps, counts.astype(np.int64)
