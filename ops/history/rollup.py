"""Rollups of the embedded history: per service, per-minute and per-hour aggregates in numpy rings.

Raw checks of 1,000 services at 10 s are 60 million rows a week; the views that reach back further
than the raw retention (uptime over 7 or 30 days, charts over days, long percentiles) read these.

Layout. Each grain is a ring of `slots` time buckets by `capacity` services (slot-major, so one sweep
writes one contiguous row and untouched slots are never resident: np.zeros pages are lazy). A slot
holds bucket number `label[slot]` (minutes or hours since the epoch). Per bucket and service:
status counts (STATUSES order), failed (error set), up (counted and no error, the uptime rule of
ops/stats.py), answered (no error and a latency), latency sum / min / max over answered checks and
the last error (an index into one table of error texts). That is 32 bytes per service-minute and
36 per service-hour: 1,000 services take 46 MiB for the 24 h of minutes and 5.8 MiB a week of hours.

Latency histograms (ops/history/buckets.py) are kept for hours only: dense for the open hour, packed
sparse (bucket, count) per service once it closes (~3 bytes per non-empty bucket). Minutes carry no
histogram, so percentiles are hour-grained (see `percentiles`).

Retention: minutes for MINUTE_KEEP (24 h: the longest chart at minute steps, beyond any raw
retention the embedded store can afford at this scale), hours for HOUR_KEEP (the store's
`retention_days`, 90 by default). The rings are sized for them, so older buckets also fall out by
themselves.

Closing: a bucket is final once a check of a later bucket arrives; `closed_blocks()` hands out each
closed bucket once (for ops/history/rollup_file.py to append), and a check for a closed bucket is
late and left out (`late` counts them). After loading closed buckets from the file, `replay_from()`
says from when the store must feed its raw rows again to rebuild the open buckets.

Not thread-safe: the store's lock guards it.

Files: the rings in rollup_ring.py, the queries in rollup_reads.py, Block encode/decode in
rollup_blocks.py (both mixins of Rollups); this module writes, closes and retires buckets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from ops.history.buckets import BUCKETS, bucket_index
from ops.history.rollup_blocks import RollupBlocks
from ops.history.rollup_reads import RollupReads
from ops.history.rollup_ring import MAINTENANCE, STATUS_INDEX, Ring
from ops.history.rows import CheckRow

MINUTE_KEEP = timedelta(hours=24)
HOUR_KEEP = timedelta(days=90)
MAX_ERROR_CHARS = 300  # the error table lives as long as the process: no unbounded texts in it


class Rollups(RollupBlocks, RollupReads):
    """Per-minute and per-hour aggregates of every service's checks; see the module docstring."""

    def __init__(self, minute_keep: timedelta = MINUTE_KEEP, hour_keep: timedelta = HOUR_KEEP) -> None:
        capacity = 16
        self.minutes = Ring("minute", 60, int(minute_keep.total_seconds() // 60) + 2, capacity, np.float32)
        self.hours = Ring("hour", 3600, int(hour_keep.total_seconds() // 3600) + 2, capacity, np.float64)
        self.services: list[str] = []
        self._index: dict[str, int] = {}
        self.errors: list[str] = []
        self._error_index: dict[str, int] = {}
        self.hists: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # closed hour -> packed
        self.fleet_hists: dict[int, np.ndarray] = {}  # closed hour -> (BUCKETS,) uint32, all services
        self._open_hist = np.zeros((capacity, BUCKETS), np.uint16)  # the open hour's, dense
        self._closed: list[tuple[Ring, int]] = []
        self._put_names: tuple[list[str] | None, np.ndarray] = (None, np.zeros(0, np.int64))
        self.late = 0  # checks left out: their bucket had closed (a clock stepped back)

    # -- writing -------------------------------------------------------------------------------
    def add(self, ts: datetime, rows: Sequence[CheckRow]) -> None:
        """Fold one sweep in: O(services), a few numpy scatters per grain."""
        if not rows:
            return
        idx, status, failed, up, answered, latency, error = self._columns(rows)
        second = ts.timestamp()
        for ring in (self.minutes, self.hours):
            number = int(second // ring.seconds)
            if number <= ring.closed or number < ring.floor:
                self.late += len(rows)
                continue
            if ring.current is not None and number > ring.current:
                self._close(ring, number)
            ring.current = number
            slot = ring.slot_for(number)
            np.add.at(ring.status[slot], (idx, status), 1)
            np.add.at(ring.failed[slot], idx, failed)
            np.add.at(ring.up[slot], idx, up)
            a_idx, a_ms = idx[answered], latency[answered]
            first = ring.answered[slot, a_idx] == 0
            ring.latency_min[slot, a_idx] = np.where(first, a_ms, np.minimum(ring.latency_min[slot, a_idx], a_ms))
            ring.latency_max[slot, a_idx] = np.where(first, a_ms, np.maximum(ring.latency_max[slot, a_idx], a_ms))
            np.add.at(ring.answered[slot], a_idx, 1)
            np.add.at(ring.latency_sum[slot], a_idx, a_ms)
            ring.error[slot, idx[failed]] = error[failed]
            if ring is self.hours:
                buckets = np.fromiter((bucket_index(ms) for ms in a_ms), np.int64, len(a_ms))
                np.add.at(self._open_hist, (a_idx, buckets), 1)

    def _columns(self, rows: Sequence[CheckRow]) -> tuple[np.ndarray, ...]:
        n = len(rows)
        idx = np.fromiter((self._service(r.service) for r in rows), np.int64, n)
        status = np.fromiter((STATUS_INDEX.get(r.status, STATUS_INDEX["pending"]) for r in rows), np.int64, n)
        failed = np.fromiter((r.error is not None for r in rows), bool, n)
        up = ~failed & (status != MAINTENANCE)
        latency = np.fromiter((np.nan if r.answered_ms is None else r.answered_ms for r in rows), np.float64, n)
        answered = ~np.isnan(latency)
        error = np.fromiter((0 if r.error is None else 1 + self._error(r.error) for r in rows), np.int32, n)
        return idx, status, failed, up, answered, latency, error

    def _service(self, name: str) -> int:
        i = self._index.get(name)
        if i is None:
            i = self._index[name] = len(self.services)
            self.services.append(name)
            if i >= self.minutes.capacity:
                capacity = 2 * self.minutes.capacity
                self.minutes.grow(capacity)
                self.hours.grow(capacity)
                hist = np.zeros((capacity, BUCKETS), np.uint16)
                hist[: len(self._open_hist)] = self._open_hist
                self._open_hist = hist
        return i

    def _error(self, text: str) -> int:
        text = text[:MAX_ERROR_CHARS]
        i = self._error_index.get(text)
        if i is None:
            i = self._error_index[text] = len(self.errors)
            self.errors.append(text)
        return i

    def _close(self, ring: Ring, number: int) -> None:
        """The open bucket is final: every bucket before `number` is."""
        self._closed.append((ring, ring.current))
        if ring is self.hours:
            n = len(self.services)
            svc, bucket = np.nonzero(self._open_hist[:n])
            offsets = np.concatenate(([0], np.cumsum(np.bincount(svc, minlength=n)))).astype(np.int32)
            self.hists[ring.current] = (offsets, bucket.astype(np.uint8), self._open_hist[svc, bucket])
            self.fleet_hists[ring.current] = self._open_hist[:n].sum(axis=0, dtype=np.uint32)
            self._open_hist[:] = 0
        ring.closed, ring.current = number - 1, None

    def replay_from(self) -> datetime | None:
        """From when the store must add its raw rows again to rebuild the open buckets (None: all)."""
        if self.minutes.closed < 0 or self.hours.closed < 0:
            return None
        first = min((self.minutes.closed + 1) * 60, (self.hours.closed + 1) * 3600)
        return datetime.fromtimestamp(first, UTC)

    # -- retention -----------------------------------------------------------------------------
    def retention(
        self, now: datetime, minute_keep: timedelta = MINUTE_KEEP, hour_keep: timedelta = HOUR_KEEP
    ) -> dict[str, int]:
        """Drop buckets that ended before now - keep; {"minute": n, "hour": n} service-buckets dropped."""
        minute_cut = math.floor((now - minute_keep).timestamp() / 60)
        hour_cut = math.floor((now - hour_keep).timestamp() / 3600)
        for hour in [h for h in self.hists if h < hour_cut]:
            del self.hists[hour], self.fleet_hists[hour]
        return {"minute": self.minutes.drop_before(minute_cut), "hour": self.hours.drop_before(hour_cut)}
