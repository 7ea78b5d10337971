"""The embedded store's named queries, answered from its pandas frame (pandas goes no further).

Rows are in time order, so a window is a slice found by binary search, and per-service sums are
numpy bincounts over category codes: no copy of the frame per query. Each function takes the frame
already cut to `since` (and to one service where asked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ops.fleet import SEVERITY, severity
from ops.history.embedded_frame import WindowRows, check_rows, epoch_us
from ops.history.rows import ChartPoint, CheckRow, LastRun, Tally
from ops.stats import NOT_COUNTED

FLEET = "*"  # the percentiles key of all services' answered checks pooled
CSV_CHUNK = 10_000


def start_of(frame: pd.DataFrame, moment: datetime) -> int:
    """Index of the first row at or after `moment`."""
    return int(frame["ts"].searchsorted(pd.Timestamp(moment)))


def last_sweeps(frame: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """The rows of the last `limit` sweeps (all rows when limit is None)."""
    if limit is None or frame.empty:
        return frame
    stamps = frame["ts"].drop_duplicates()
    return frame[frame["ts"] >= stamps.iloc[-limit:].iloc[0]] if len(stamps) > limit else frame


def sweep_count(frame: pd.DataFrame) -> int:
    """How many timestamps (sweeps) the rows hold."""
    return int(frame["ts"].nunique()) if len(frame) else 0


def last_per_service(frame: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """At most the last `limit` rows of each service, in the frame's order."""
    if limit is None or frame.empty:
        return frame
    return frame.groupby("service", observed=True, sort=False).tail(limit)


def csv_chunks(frame: pd.DataFrame) -> Iterator[CheckRow]:
    """The rows as CheckRow, converted a chunk at a time (an export of a week never doubles in memory)."""
    for start in range(0, len(frame), CSV_CHUNK):
        yield from check_rows(frame.iloc[start : start + CSV_CHUNK])


def spark_points(frame: pd.DataFrame, names: Iterable[str], points: int) -> dict[str, list]:
    """{name: [[epoch ms, answered ms or None, status, error or None], ...]} oldest first, every name."""
    wanted = list(dict.fromkeys(names))
    out: dict[str, list] = {name: [] for name in wanted}
    if frame.empty or not wanted:
        return out
    picked = last_per_service(frame[frame["service"].isin(wanted)], points)
    stamps_ms = (epoch_us(picked["ts"]) // 1000).tolist() if len(picked) else []
    for ms, row in zip(stamps_ms, check_rows(picked), strict=True):
        out[row.service].append([ms, row.answered_ms, row.status, row.error])
    return out


def chart_points(frame: pd.DataFrame, span: timedelta, buckets: int) -> list[ChartPoint]:
    """Each check while there are at most `buckets`, else one point per time bucket of span / buckets."""
    if len(frame) <= buckets:
        return [
            ChartPoint(r.ts, r.answered_ms, r.status, int(r.error is not None), 1, r.error) for r in check_rows(frame)
        ]
    step_us = max(int(span.total_seconds() / buckets), 1) * 1_000_000
    stamps = epoch_us(frame["ts"])
    starts = np.flatnonzero(np.diff(stamps // step_us, prepend=-1))  # rows are in time order
    error_codes = frame["error"].cat.codes.to_numpy()
    failed = error_codes >= 0
    latency = frame["latency_ms"].to_numpy()
    answered = ~failed & ~np.isnan(latency)
    sums = np.add.reduceat(np.where(answered, latency, 0.0), starts)
    counts = np.add.reduceat(answered.astype(np.int64), starts)
    ranks = np.array([severity(s) for s in frame["status"].cat.categories], dtype=np.int64)
    worst = np.minimum.reduceat(ranks[frame["status"].cat.codes.to_numpy()], starts)
    last_failed = np.maximum.reduceat(np.where(failed, np.arange(len(frame)), -1), starts)
    sizes = np.diff(np.append(starts, len(frame)))
    failures = np.add.reduceat(failed.astype(np.int64), starts)
    errors = frame["error"].cat.categories
    first_rows = check_rows(frame.iloc[starts])
    return [
        ChartPoint(
            first.ts,
            float(sums[i] / counts[i]) if counts[i] else None,
            SEVERITY[min(int(worst[i]), len(SEVERITY) - 1)],
            int(failures[i]),
            int(sizes[i]),
            None if last_failed[i] < 0 else str(errors[error_codes[last_failed[i]]]),
        )
        for i, first in enumerate(first_rows)
    ]


def uptime(frame: pd.DataFrame, windows: Mapping[str, timedelta], now: datetime) -> dict[str, dict]:
    """{service: {label: % of counted checks that passed, None where nothing counted}}."""
    if frame.empty or not windows:
        return {}
    names = [str(n) for n in frame["service"].cat.categories]
    codes = frame["service"].cat.codes.to_numpy()
    counted = ~frame["status"].isin(NOT_COUNTED).to_numpy()
    good = frame["error"].isna().to_numpy() & counted
    starts = {label: start_of(frame, now - span) for label, span in windows.items()}
    present = np.flatnonzero(np.bincount(codes[min(starts.values()) :], minlength=len(names)))
    out: dict[str, dict] = {names[i]: {} for i in present}
    for label, start in starts.items():
        window = codes[start:]
        total = np.bincount(window[counted[start:]], minlength=len(names))
        up = np.bincount(window[good[start:]], minlength=len(names))
        for i in present:
            out[names[i]][label] = None if total[i] == 0 else round(100.0 * float(up[i]) / float(total[i]), 3)
    return out


def percentiles(
    rows: WindowRows, windows: Mapping[str, timedelta], now: datetime, qs: Sequence[int]
) -> dict[str, dict]:
    """{service: {f"p{q}_{label}": ms}} over answered checks (numpy's linear), plus the fleet's under "*"."""
    keys = [f"p{q}_{label}" for label in windows for q in qs]
    out: dict[str, dict] = {FLEET: dict.fromkeys(keys)}
    for label, span in windows.items():
        keep = rows.answered & (rows.stamps_us >= round((now - span).timestamp() * 1_000_000))
        window_codes, window_latency = rows.codes[keep], rows.latency[keep]
        if len(window_latency):
            _put(out.setdefault(FLEET, {}), label, qs, window_latency)
        found, values = _percentiles_by_service(window_codes, window_latency, len(rows.names), qs)
        for i, row in zip(found.tolist(), values.tolist(), strict=True):
            figures = out.setdefault(rows.names[i], dict.fromkeys(keys))
            for q, value in zip(qs, row, strict=True):
                figures[f"p{q}_{label}"] = round(value, 1)
    return out


def _put(figures: dict, label: str, qs: Sequence[int], values: np.ndarray) -> None:
    for q, value in zip(qs, np.percentile(values, list(qs)), strict=True):
        figures[f"p{q}_{label}"] = round(float(value), 1)


def _grouped(codes: np.ndarray, values: np.ndarray, services: int) -> tuple[np.ndarray, np.ndarray]:
    """(the values sorted by service, then value; bounds: service i's run is bounds[i]:bounds[i + 1])."""
    order = np.lexsort((values, codes))
    return values[order], np.searchsorted(codes[order], np.arange(services + 1))


def _by_service(codes: np.ndarray, values: np.ndarray, services: int) -> Iterator[tuple[int, np.ndarray]]:
    """(service code, its values ascending) for each service with any value."""
    sorted_values, bounds = _grouped(codes, values, services)
    for i in np.flatnonzero(np.diff(bounds)):
        yield int(i), sorted_values[bounds[i] : bounds[i + 1]]


def _percentiles_by_service(
    codes: np.ndarray, values: np.ndarray, services: int, qs: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(codes of the services with any value, their percentiles: a row each, a column per q).

    np.percentile's linear method for every service at once, over the sorted runs: one np.percentile
    call per service cost ~0.3 s at 1,000 services, and every page load's fleet p95 waited for it.
    The steps are numpy's own (index (n - 1) * q / 100, its two-sided lerp), so the figures are the
    very same floats (tests/unit/test_embedded_percentiles.py)."""
    sorted_values, bounds = _grouped(codes, values, services)
    found = np.flatnonzero(np.diff(bounds))
    start, n = bounds[found][:, None], np.diff(bounds)[found][:, None]
    virtual = (n - 1) * np.true_divide(list(qs), 100)[None, :]
    below = np.minimum(np.floor(virtual).astype(np.intp), n - 1)  # at the top: the last value
    gamma = virtual - below
    a, b = sorted_values[start + below], sorted_values[start + np.minimum(below + 1, n - 1)]
    diff = b - a
    return found, np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def tallies(frame: pd.DataFrame, latencies: bool) -> dict[str, Tally]:
    """{service: Tally} of every service with a row in the frame."""
    if frame.empty:
        return {}
    names = [str(n) for n in frame["service"].cat.categories]
    codes = frame["service"].cat.codes.to_numpy()
    counted = ~frame["status"].isin(NOT_COUNTED).to_numpy()
    passed = frame["error"].isna().to_numpy() & counted
    total = np.bincount(codes[counted], minlength=len(names))
    good = np.bincount(codes[passed], minlength=len(names))
    values: dict[int, np.ndarray] = {}
    if latencies:
        latency = frame["latency_ms"].to_numpy()
        keep = frame["error"].isna().to_numpy() & ~np.isnan(latency)
        values = dict(_by_service(codes[keep], latency[keep], len(names)))
    present = np.flatnonzero(np.bincount(codes, minlength=len(names)))
    return {names[i]: Tally(int(total[i]), int(good[i]), values.get(int(i), ())) for i in present}


def last_runs(frame: pd.DataFrame, names: Iterable[str]) -> dict[str, LastRun]:
    """How each named service's rows end (start-up seeding)."""
    picked = frame[frame["service"].isin(set(names))]
    if picked.empty:
        return {}
    failed = picked["error"].cat.codes.to_numpy() >= 0
    statuses = picked["status"].cat.codes.to_numpy()
    out = {}
    for name, rows in picked.groupby("service", observed=True).indices.items():
        last_error = rows[failed[rows]]
        same = _trailing(statuses[rows] == statuses[rows[-1]])
        first, *_ = check_rows(picked.iloc[[rows[len(rows) - same]]])
        last, *_ = check_rows(picked.iloc[[rows[-1]]])
        error = check_rows(picked.iloc[[last_error[-1]]])[0].error if len(last_error) else None
        out[str(name)] = LastRun(last, _trailing(failed[rows]), _trailing(~failed[rows]), first.ts, error)
    return out


def _trailing(flags: np.ndarray) -> int:
    """How many of the last flags are True in a row."""
    falses = np.flatnonzero(~flags)
    return len(flags) - (int(falses[-1]) + 1 if len(falses) else 0)
