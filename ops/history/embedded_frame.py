"""The embedded store's typed pandas frames, built from decoded columns without a Python object per row."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd

from ops.history import embedded_file as hf
from ops.history.rows import CheckRow

CATEGORICAL = ("service", "status", "error")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def frame_from_columns(columns: hf.Columns) -> pd.DataFrame:
    """Columns -> frame: int64 times, categorical names/statuses/errors, float figures (~27 B a row)."""
    services = list(columns.services)
    errors = list(columns.errors)
    error_codes = np.frombuffer(columns.error, dtype=np.int32) if len(columns) else np.empty(0, np.int32)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(np.frombuffer(columns.ts_us, dtype=np.int64), unit="us", utc=True),
            "service": pd.Categorical.from_codes(np.frombuffer(columns.service, dtype=np.int32), categories=services),
            "status": pd.Categorical.from_codes(np.frombuffer(columns.status, dtype=np.int8), categories=hf.STATUSES),
            "latency_ms": np.array(columns.latency_ms, dtype=np.float64),
            "http_status": np.array(columns.http_status, dtype=np.float64),
            "error": pd.Categorical.from_codes(error_codes, categories=pd.Index(errors, dtype=object)),
        }
    )


def empty_frame() -> pd.DataFrame:
    """A history frame with no rows and the right dtypes (a copy: callers may change theirs)."""
    return _empty_template().copy()


@functools.cache
def _empty_template() -> pd.DataFrame:
    # Built once: building one costs ~1 ms (categoricals, datetimes), a copy ~40 µs, and a sweep asks
    # twice (the rows leaving the 1 h and 24 h windows, most often none).
    return frame_from_columns(hf.Columns())


def concat_frames(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat that keeps categorical columns categorical and the rows in time order."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame()
    if len(frames) == 1:
        merged = frames[0]
    else:
        aligned = [f.copy(deep=False) for f in frames]
        for column in CATEGORICAL:
            # Keep the first frame's order and add new ones after, so its codes need no rewrite.
            categories = pd.Index(pd.unique(np.concatenate([f[column].cat.categories.to_numpy() for f in frames])))
            for frame in aligned:
                frame[column] = frame[column].cat.set_categories(categories)
        merged = pd.concat(aligned, ignore_index=True)
    if not merged["ts"].is_monotonic_increasing:  # the wall clock stepped back at some point
        merged = merged.sort_values("ts", kind="stable", ignore_index=True)
    return merged


def epoch_us(stamps: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 microseconds since the epoch."""
    return stamps.dt.tz_convert(None).to_numpy().astype("datetime64[us]").astype(np.int64)


def check_rows(frame: pd.DataFrame) -> list[CheckRow]:
    """Frame rows as CheckRow records, oldest first (None for what is missing)."""
    if frame.empty:
        return []
    stamps = [EPOCH + timedelta(microseconds=us) for us in epoch_us(frame["ts"]).tolist()]
    latency = frame["latency_ms"].to_numpy()
    http = frame["http_status"].to_numpy()
    return [
        CheckRow(ts, service, status, None if ms != ms else float(ms), None if code != code else int(code), error)
        for ts, service, status, ms, code, error in zip(
            stamps,
            frame["service"].astype(object).tolist(),
            frame["status"].astype(object).tolist(),
            latency.tolist(),
            http.tolist(),
            _strings(frame["error"]),
            strict=True,
        )
    ]


def _strings(column: pd.Series) -> list[str | None]:
    """A categorical text column as str or None per row."""
    return [None if value is None or value != value else str(value) for value in column.astype(object).tolist()]


class WindowRows(NamedTuple):
    """Rows as plain arrays: service codes into `names`, µs stamps, latencies, whether answered."""

    names: list[str]
    codes: np.ndarray
    stamps_us: np.ndarray
    latency: np.ndarray
    answered: np.ndarray  # no error and a latency

    def only(self, service: str) -> WindowRows:
        keep = self.codes == (self.names.index(service) if service in self.names else -1)
        return WindowRows(self.names, self.codes[keep], self.stamps_us[keep], self.latency[keep], self.answered[keep])


def window_rows(frame: pd.DataFrame, pending: Sequence[hf.Columns], since: datetime) -> WindowRows:
    """The rows from `since` of `frame` (in time order) and of sweeps not merged into it yet, without
    building a frame: an open page asks for the last hour's percentiles every sweep, and merging the
    pending sweeps copied the whole history, while a frame of a few rows costs pandas ~5 ms to build."""
    tail = frame.iloc[int(frame["ts"].searchsorted(pd.Timestamp(since))) :]
    names = [str(n) for n in frame["service"].cat.categories]
    index = {name: i for i, name in enumerate(names)}
    latency = tail["latency_ms"].to_numpy()
    parts = [(tail["service"].cat.codes.to_numpy(), epoch_us(tail["ts"]), latency, tail["error"].isna().to_numpy())]
    for columns in pending:
        remap = np.array([index.setdefault(name, len(index)) for name in columns.services], dtype=np.int64)
        errors = np.frombuffer(columns.error, dtype=np.int32) < 0
        stamps = np.frombuffer(columns.ts_us, dtype=np.int64)
        parts.append(
            (remap[np.frombuffer(columns.service, dtype=np.int32)], stamps, np.frombuffer(columns.latency_ms), errors)
        )
    codes, stamps, latency, no_error = (np.concatenate([part[k] for part in parts]) for k in range(4))
    keep = stamps >= round(since.timestamp() * 1_000_000)  # a pending sweep may be older (the clock stepped back)
    return WindowRows(
        list(index), codes[keep].astype(np.int64), stamps[keep], latency[keep], (no_error & ~np.isnan(latency))[keep]
    )


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
                None if record.get("error") is None else str(record["error"]),
            ]
            columns.add_line({"ts": hf.format_ts(ts.to_pydatetime()), "rows": [row]})
        except hf.DECODE_ERRORS:
            continue
    return columns


def release_freed_memory() -> None:
    """Hand memory freed after a big load back to the OS (glibc keeps it otherwise)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do
