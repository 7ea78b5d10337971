"""The embedded history store: a pandas frame in memory, persisted by appending one JSON line per sweep.

The default store, with no server: it answers every query of ops/history/protocol.py from its frame
(ops/history/embedded_queries.py), so pandas never leaves ops/history/. Writes are crash-safe: one
appended line per sweep (a kill leaves at worst a torn last line, cut at the next start), damage is
moved aside at load (ops/history/embedded_repair.py), a full disk holds sweeps until it frees up, and
an hourly compaction drops rows older than the retention through a temp file and os.replace.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from ops.append_file import AppendFile, WriteHealth
from ops.history import embedded_file as hf
from ops.history import embedded_queries as q
from ops.history.embedded_compact import first_line_stamp, rewrite_from
from ops.history.embedded_frame import check_rows, concat_frames, empty_frame, frame_from_columns, release_freed_memory
from ops.history.embedded_repair import read_history, tmp_path
from ops.history.rows import ChartPoint, CheckRow, LastRun, Tally, round_latency
from ops.probes import ProbeResult

log = logging.getLogger(__name__)

COMPACT_EVERY = timedelta(hours=1)
# Sweeps kept for the file while it cannot be written (they stay in the frame regardless): 8 MiB is
# about a week of 10 services at a 40 s interval; older ones beyond that are given up on, oldest first.
MAX_HELD_BYTES = 8 << 20
MERGE_EVERY = 64  # sweeps kept as columns before they are merged into the frame (by frame() or append)


class EmbeddedStore:
    """Append-only history with retention over one JSON-lines file (or memory only, with no path)."""

    def __init__(self, path: str | os.PathLike[str] | None, retention: timedelta) -> None:
        self.path = Path(path) if path else None
        self.raw_retention = retention
        self.retention = retention  # no rollups yet: everything is raw, kept as long
        self._lock = threading.RLock()
        self._frame = empty_frame()
        self._pending: list[hf.Columns] = []
        self._out: AppendFile | None = None  # the file, from load() to close(); memory only without it
        self._last_compaction = datetime.now(UTC) - COMPACT_EVERY  # the first append compacts what load left
        self._compactor: threading.Thread | None = None
        self._compact_lock = threading.Lock()
        self.generation = 0  # see HistoryStore.generation

    # -- life cycle ----------------------------------------------------------------------------
    def load(self) -> int:
        """Read the history file (moving damage aside) and open it for appending."""
        if self.path is None:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        frame = read_history(self.path)
        start = q.start_of(frame, datetime.now(UTC) - self.raw_retention)
        with self._lock:
            self._frame = frame.iloc[start:].reset_index(drop=True)
            self._pending = []
            self.generation += 1
        del frame
        release_freed_memory()
        self._out = AppendFile(self.path, WriteHealth("history", log), MAX_HELD_BYTES)
        self._out.open()  # a refusal (disk full) is reported; appends retry it
        log.info("history: %d rows loaded from %s", len(self._frame), self.path)
        return len(self._frame)

    def close(self) -> None:
        """Wait for a running compaction, flush and close the file. Idempotent."""
        if self._compactor is not None:
            self._compactor.join(timeout=30)
        with self._lock:
            out, self._out = self._out, None
            if out is not None:
                out.sync()
                out.close()

    def flush(self) -> None:
        """fsync the file (a failure is reported, not raised)."""
        if self._out is not None:
            self._out.sync()

    def storage_status(self) -> dict:
        """{"ok", "error", "since", "unsaved_sweeps"}: whether sweeps reach the file (for the snapshot)."""
        if self._out is None:
            return {"ok": True, "error": None, "since": None, "unsaved_sweeps": 0}
        return {**self._out.health.status(), "unsaved_sweeps": self._out.held}

    def __len__(self) -> int:
        with self._lock:
            return len(self._frame) + sum(len(c) for c in self._pending)

    # -- writing -------------------------------------------------------------------------------
    def append(self, ts: datetime, results: Sequence[ProbeResult]) -> None:
        """Persist one sweep (one appended line) and keep it in memory."""
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
            merge = len(self._pending) >= MERGE_EVERY
        if merge:  # now and then, not every sweep: a merge copies the whole frame
            self.frame()
        self._maybe_compact()

    def drop_expired(self, now: datetime) -> dict[str, int]:
        """Drop rows older than now - retention, in memory and in the file: {"raw": rows dropped}."""
        with self._compact_lock:  # one compaction at a time: the timer's and an explicit call
            self._last_compaction = datetime.now(UTC)
            return {"raw": self._compact(now - self.raw_retention)}

    def compact(self) -> int:
        """drop_expired() as of now; the rows dropped from memory."""
        return self.drop_expired(datetime.now(UTC))["raw"]

    def _maybe_compact(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_compaction < COMPACT_EVERY or (self._compactor and self._compactor.is_alive()):
            return
        self._last_compaction = now
        self._compactor = threading.Thread(target=self.compact, name="history-compactor", daemon=True)
        self._compactor.start()

    def _compact(self, cutoff: datetime) -> int:
        self.frame()  # merge what is pending first
        with self._lock:
            dropped = q.start_of(self._frame, cutoff)
            if dropped:
                self._frame = self._frame.iloc[dropped:].reset_index(drop=True)
                self.generation += 1
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

    # -- the named queries (ops/history/protocol.py) -------------------------------------------
    def recent_checks(
        self,
        *,
        service: str | None = None,
        since: datetime | None = None,
        sweeps: int | None = None,
        per_service: int | None = None,
    ) -> list[CheckRow]:
        frame = q.last_sweeps(self.frame(since=since, service=service), sweeps)
        return check_rows(q.last_per_service(frame, per_service))

    def spark_points(self, names: Iterable[str], points: int, since: datetime) -> dict[str, list]:
        return q.spark_points(self.frame(since=since), names, points)

    def chart_points(self, service: str, window: timedelta, buckets: int, now: datetime) -> list[ChartPoint]:
        return q.chart_points(self.frame(since=now - window, service=service), window, buckets)

    def uptime(
        self, windows: Mapping[str, timedelta], now: datetime, service: str | None = None
    ) -> dict[str, dict[str, float | None]]:
        return q.uptime(self._window_frame(windows, now, service), windows, now)

    def percentiles(
        self,
        windows: Mapping[str, timedelta],
        now: datetime,
        qs: Sequence[int] = (50, 95),
        service: str | None = None,
    ) -> dict[str, dict[str, float | None]]:
        return q.percentiles(self._window_frame(windows, now, service), windows, now, qs)

    def csv_rows(self, since: datetime | None = None, service: str | None = None) -> Iterator[CheckRow]:
        return q.csv_chunks(self.frame(since=since, service=service))

    def rows_between(self, start: datetime, end: datetime) -> list[CheckRow]:
        return check_rows(self.between(start, end))

    def last_runs(self, names: Iterable[str]) -> dict[str, LastRun]:
        return q.last_runs(self.frame(), names)

    def tallies(self, since: datetime, latencies: bool = False) -> dict[str, Tally]:
        return q.tallies(self.frame(since=since), latencies)

    def _window_frame(self, windows: Mapping[str, timedelta], now: datetime, service: str | None) -> pd.DataFrame:
        longest = max(windows.values(), default=timedelta(0))
        return self.frame(since=now - longest, service=service)
