"""The check history: a pandas frame in memory, persisted by appending one JSON line per sweep."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from ops import history_file as hf
from ops.probes import ProbeResult

log = logging.getLogger(__name__)

COLUMNS = ("ts", "service", "status", "latency_ms", "http_status", "error")
CATEGORICAL = ("service", "status", "error")
COMPACT_EVERY = timedelta(hours=1)


def empty_frame() -> pd.DataFrame:
    """A history frame with no rows and the right dtypes."""
    return frame_from_columns(hf.Columns())


def frame_from_columns(columns: hf.Columns) -> pd.DataFrame:
    """Column lists -> typed frame (categoricals keep 750 k rows in a few tens of MB)."""
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(pd.Series(columns.ts, dtype=object), format=hf.TS_FORMAT, utc=True),
            "service": pd.Categorical(columns.service),
            "status": pd.Categorical(columns.status),
            "latency_ms": pd.Series(columns.latency_ms, dtype="float64"),
            "http_status": pd.Series(columns.http_status, dtype="float64"),
            "error": pd.Categorical(columns.error),
        }
    )


def concat_frames(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat that keeps categorical columns categorical (it falls back to object otherwise)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame()
    if len(frames) == 1:
        return frames[0]
    aligned = [f.copy(deep=False) for f in frames]
    for column in CATEGORICAL:
        categories = pd.Index(sorted(set().union(*(f[column].cat.categories for f in frames))))
        for frame in aligned:
            frame[column] = frame[column].cat.set_categories(categories)
    return pd.concat(aligned, ignore_index=True)


class HistoryStore:
    """Append-only history with retention; pandas stays inside this class."""

    def __init__(self, path: str | os.PathLike[str] | None, retention: timedelta) -> None:
        self.path = Path(path) if path else None
        self.retention = retention
        self._lock = threading.RLock()
        self._frame = empty_frame()
        self._pending: list[hf.Columns] = []
        self._file = None
        self._last_compaction = datetime.now(UTC)
        self._compactor: threading.Thread | None = None

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> int:
        """Read the history file (moving a corrupt one aside) and open it for appending."""
        if self.path is None:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self._read_bytes()
        frames, report = self._decode(data)
        if report.bad_lines or report.legacy or (data.strip() and not frames and not report.torn_tail):
            self._salvage(data, frames, report)
        elif report.torn_tail:
            log.warning("%s: dropped a partial last line (the process stopped mid-write)", self.path)
            with open(self.path, "r+b") as handle:
                handle.truncate(report.good_bytes)
        cutoff = datetime.now(UTC) - self.retention
        frame = concat_frames(frames)
        self._frame = frame[frame["ts"] >= cutoff].reset_index(drop=True)
        self._file = open(self.path, "ab")  # noqa: SIM115 - held open for appends until close()
        log.info("history: %d rows loaded from %s", len(self._frame), self.path)
        return len(self._frame)

    def _read_bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            log.warning("%s: cannot read history (%s); moving it aside", self.path, exc)
            self._move_aside()
            return b""

    def _decode(self, data: bytes) -> tuple[list[pd.DataFrame], hf.ReadReport]:
        report = hf.ReadReport()
        legacy = hf.legacy_records(data)
        if legacy is not None:
            columns = legacy_columns(legacy)
            report.legacy = True  # rewrite it in today's format; the original is kept aside
            return [frame_from_columns(columns)], report
        return [frame_from_columns(c) for c in hf.read_lines(data, report)], report

    def _salvage(self, data: bytes, frames: list[pd.DataFrame], report: hf.ReadReport) -> None:
        """Keep the original aside, rewrite the readable rows: warn loudly, lose nothing."""
        aside = self._move_aside()
        kept = sum(len(f) for f in frames)
        why = "is in the original dashboard's format" if report.legacy else f"has {report.bad_lines} unreadable line(s)"
        log.warning("%s %s: original moved to %s, %d readable rows kept", self.path, why, aside, kept)
        self._write_atomically(concat_frames(frames))

    def _move_aside(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        return aside

    def _write_atomically(self, frame: pd.DataFrame) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as handle:
            for ts, group in frame.groupby("ts", sort=True, observed=True):
                handle.write(hf.encode_sweep(ts.to_pydatetime(), rows_of(group)))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    # -- writing -------------------------------------------------------------------------------
    def append(self, ts: datetime, results: Sequence[ProbeResult]) -> None:
        """Persist one sweep (one appended line) and keep it in memory."""
        rows = [(r.service, r.status, _round(r.latency_ms), r.http_status, r.error) for r in results]
        if not rows:
            return
        line = hf.encode_sweep(ts, rows)
        columns = hf.Columns()
        columns.add_rows(hf.format_ts(ts), rows)
        with self._lock:
            if self._file is not None:
                self._file.write(line)
                self._file.flush()  # in the kernel now: a SIGKILL after this loses nothing
            self._pending.append(columns)
        self._maybe_compact()

    def flush(self) -> None:
        """Push buffered bytes to disk."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())

    def close(self) -> None:
        """Wait for a running compaction, flush and close the file."""
        if self._compactor is not None:
            self._compactor.join(timeout=30)
        with self._lock:
            if self._file is not None:
                self.flush()
                self._file.close()
                self._file = None

    # -- reading -------------------------------------------------------------------------------
    def frame(self, since: datetime | None = None, service: str | None = None) -> pd.DataFrame:
        """The history (oldest first), optionally from `since` and for one service."""
        with self._lock:
            if self._pending:
                merged = [frame_from_columns(_merge_columns(self._pending))]
                self._frame = concat_frames([self._frame, *merged])
                self._pending = []
            frame = self._frame
        if since is not None:
            frame = frame[frame["ts"] >= pd.Timestamp(since)]
        if service is not None:
            frame = frame[frame["service"] == service]
        return frame

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
        """Drop rows older than the retention, in memory and on disk; return rows dropped."""
        cutoff = datetime.now(UTC) - self.retention
        frame = self.frame()
        with self._lock:
            keep = self._frame["ts"] >= pd.Timestamp(cutoff)
            dropped = int((~keep).sum())
            if dropped:
                self._frame = self._frame[keep].reset_index(drop=True)
            offset = self._file.tell() if self._file is not None else 0
        if dropped and self.path is not None and len(frame):
            self._rewrite_from(hf.format_ts(cutoff), offset)
        return dropped

    def _rewrite_from(self, cutoff_text: str, offset: int) -> None:
        """Copy lines newer than the cutoff to a new file without holding the lock for long."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(self.path, "rb") as source, open(tmp, "wb") as target:
            for line in iter(lambda: source.readline() if source.tell() < offset else b"", b""):
                stamp = line[len(hf.TS_PREFIX) : len(hf.TS_PREFIX) + len(cutoff_text)].decode("ascii", "replace")
                if stamp >= cutoff_text:
                    target.write(line)
            with self._lock:  # lines appended while we copied go over too, then the swap
                self._file.flush()
                source.seek(offset)
                target.write(source.read())
                target.flush()
                os.fsync(target.fileno())
                os.replace(tmp, self.path)
                self._file.close()
                self._file = open(self.path, "ab")  # noqa: SIM115


def _round(latency: float | None) -> float | None:
    return None if latency is None else round(latency, 1)  # what the file keeps, so memory agrees


def rows_of(frame: pd.DataFrame) -> list[tuple]:
    """Frame rows as (service, status, latency_ms, http_status, error) with None for missing."""
    out = []
    for service, status, latency, http_status, error in frame[list(COLUMNS[1:])].itertuples(index=False):
        out.append(
            (
                service,
                status,
                None if pd.isna(latency) else float(latency),
                None if pd.isna(http_status) else int(http_status),
                None if pd.isna(error) else error,
            )
        )
    return out


def _merge_columns(chunks: list[hf.Columns]) -> hf.Columns:
    merged = hf.Columns()
    for chunk in chunks:
        for name in COLUMNS:
            getattr(merged, name).extend(getattr(chunk, name))
    return merged


def legacy_columns(records: list[dict]) -> hf.Columns:
    """Convert the original dashboard's records (best effort, unknown shapes skipped)."""
    columns = hf.Columns()
    for record in records:
        try:
            ts = pd.Timestamp(record.get("ts") or record["timestamp"])
            ts = ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)
            status = str(record.get("status", "")).lower()
            status = {"healthy": "up", "unhealthy": "down", "ok": "up"}.get(status, status)
            row = [
                record.get("service") or record["name"],
                hf.STATUS_CODES.get(status, "p"),
                record.get("latency_ms", record.get("response_time")),
                record.get("http_status"),
                record.get("error"),
            ]
            columns.add_line({"ts": hf.format_ts(ts.to_pydatetime()), "rows": [row]})
        except (KeyError, ValueError, TypeError):
            continue
    return columns
