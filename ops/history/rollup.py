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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from ops.fleet import severity
from ops.history.buckets import BUCKETS, bucket_index, percentile_from_counts
from ops.history.rows import ChartPoint, CheckRow

MINUTE_KEEP = timedelta(hours=24)
HOUR_KEEP = timedelta(days=90)
STATUSES = ("up", "degraded", "down", "pending", "maintenance")  # columns of the status counts
STATUS_INDEX = {name: i for i, name in enumerate(STATUSES)}
MAINTENANCE = STATUS_INDEX["maintenance"]  # not counted for uptime
WORST_FIRST = sorted(range(len(STATUSES)), key=lambda i: severity(STATUSES[i]))
MAX_ERROR_CHARS = 300  # the error table lives as long as the process: no unbounded texts in it


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over a window for one service."""

    checks: int
    failed: int
    counted: int
    up: int
    answered: int
    latency_sum: float

    @property
    def uptime(self) -> float | None:
        return None if self.counted == 0 else round(100.0 * self.up / self.counted, 3)


@dataclass
class Block:
    """One closed bucket of every service: the unit the file stores and `put` loads."""

    grain: str  # "minute" or "hour"
    start: int  # bucket number: minutes or hours since the epoch
    services: list[str]  # row i of every array is services[i]
    status: np.ndarray  # (n, len(STATUSES)) uint16
    failed: np.ndarray  # (n,) uint16, as are up and answered
    up: np.ndarray
    answered: np.ndarray
    latency_sum: np.ndarray  # (n,) float64
    latency_min: np.ndarray  # (n,) float32, 0 where nothing answered; as is latency_max
    latency_max: np.ndarray
    errors: list[str]  # the texts `error` points into
    error: np.ndarray  # (n,) int32: 0 for none, else 1 + index into errors
    hist: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # hours: offsets(n+1), bucket u8, count u16


class _Ring:
    """One grain's buckets: `slots` time buckets by `capacity` services."""

    FIELDS = ("failed", "up", "answered", "latency_sum", "latency_min", "latency_max", "error")

    def __init__(self, grain: str, seconds: int, slots: int, capacity: int, sum_dtype: type) -> None:
        self.grain, self.seconds, self.slots = grain, seconds, slots
        self.sum_dtype = sum_dtype
        self.label = np.full(slots, -1, np.int64)
        self.closed = -1  # every bucket numbered <= closed is final
        self.current: int | None = None  # the open bucket
        self.floor = 0  # buckets below it were dropped by retention
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        shape = (self.slots, capacity)
        self.status = np.zeros((*shape, len(STATUSES)), np.uint16)
        self.failed, self.up, self.answered = (np.zeros(shape, np.uint16) for _ in range(3))
        self.latency_sum = np.zeros(shape, self.sum_dtype)
        self.latency_min, self.latency_max = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        self.error = np.zeros(shape, np.int32)

    def grow(self, capacity: int) -> None:
        """Room for more services; only held slots are copied (the rest stay unresident zeros)."""
        old = {name: getattr(self, name) for name in ("status", *self.FIELDS)}
        width = self.capacity
        self._allocate(capacity)
        for slot in np.flatnonzero(self.label >= 0):
            for name, array in old.items():
                getattr(self, name)[slot, :width] = array[slot]

    def slot_for(self, number: int) -> int:
        """The slot of bucket `number`, cleared if it held an older bucket."""
        slot = number % self.slots
        if self.label[slot] != number:
            self.status[slot] = 0
            for name in self.FIELDS:
                getattr(self, name)[slot] = 0
            self.label[slot] = number
        return slot

    def available_from(self) -> int:
        """The oldest bucket number the ring can still hold."""
        newest = int(self.label.max())
        return max(self.floor, newest - self.slots + 1) if newest >= 0 else 1 << 62

    def held(self, first: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """(numbers, slots) of the buckets first <= number < end that the ring holds, oldest first."""
        numbers = np.arange(max(first, end - self.slots, self.floor), end, dtype=np.int64)
        slots = numbers % self.slots
        keep = self.label[slots] == numbers
        return numbers[keep], slots[keep]

    def sums(self, slots: np.ndarray, col: int | slice) -> tuple[np.ndarray, ...]:
        """(status, failed, up, answered, latency_sum) summed over the slots, per service of `col`."""
        return tuple(
            getattr(self, name)[slots, col].sum(axis=0, dtype=np.float64 if name == "latency_sum" else np.int64)
            for name in ("status", "failed", "up", "answered", "latency_sum")
        )

    def drop_before(self, number: int) -> int:
        """Forget buckets numbered below `number`; how many service-buckets with checks went."""
        self.floor = max(self.floor, number)
        gone = np.flatnonzero((self.label >= 0) & (self.label < number))
        dropped = int(np.count_nonzero(self.status[gone].sum(axis=2))) if len(gone) else 0
        self.label[gone] = -1
        return dropped


class Rollups:
    """Per-minute and per-hour aggregates of every service's checks; see the module docstring."""

    def __init__(self, minute_keep: timedelta = MINUTE_KEEP, hour_keep: timedelta = HOUR_KEEP) -> None:
        capacity = 16
        self.minutes = _Ring("minute", 60, int(minute_keep.total_seconds() // 60) + 2, capacity, np.float32)
        self.hours = _Ring("hour", 3600, int(hour_keep.total_seconds() // 3600) + 2, capacity, np.float64)
        self.services: list[str] = []
        self._index: dict[str, int] = {}
        self.errors: list[str] = []
        self._error_index: dict[str, int] = {}
        self.hists: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # closed hour -> packed
        self.fleet_hists: dict[int, np.ndarray] = {}  # closed hour -> (BUCKETS,) uint32, all services
        self._open_hist = np.zeros((capacity, BUCKETS), np.uint16)  # the open hour's, dense
        self._closed: list[tuple[_Ring, int]] = []
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

    def _close(self, ring: _Ring, number: int) -> None:
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

    # -- the file's side -------------------------------------------------------------------------
    def closed_blocks(self) -> list[Block]:
        """Every bucket closed since the last call, oldest first (each handed out once)."""
        closed, self._closed = self._closed, []
        return [self.block(ring.grain, number) for ring, number in closed]

    def block(self, grain: str, number: int) -> Block | None:
        """The bucket `number` of `grain` for every service, or None if it is not held."""
        ring = self.minutes if grain == "minute" else self.hours
        slot = number % ring.slots
        if ring.label[slot] != number:
            return None
        n = len(self.services)
        raw = ring.error[slot, :n]
        used = np.unique(raw[raw > 0])
        local = np.zeros(len(self.errors) + 1, np.int32)
        local[used] = np.arange(1, len(used) + 1)
        return Block(
            grain, number, list(self.services), ring.status[slot, :n].copy(),
            ring.failed[slot, :n].copy(), ring.up[slot, :n].copy(), ring.answered[slot, :n].copy(),
            ring.latency_sum[slot, :n].astype(np.float64), ring.latency_min[slot, :n].copy(),
            ring.latency_max[slot, :n].copy(), [self.errors[i - 1] for i in used], local[raw],
            self.hists.get(number) if grain == "hour" else None,
        )  # fmt: skip

    def put(self, block: Block) -> bool:
        """Load a closed bucket (from the file); False if the ring holds a newer one in its slot."""
        ring = self.minutes if block.grain == "minute" else self.hours
        if block.start < ring.floor or ring.label[block.start % ring.slots] > block.start:
            return False
        if self._put_names[0] is not block.services:  # the file's blocks share one list per names line
            names = block.services
            self._put_names = (names, np.fromiter((self._service(x) for x in names), np.int64, len(names)))
        idx = self._put_names[1]
        slot = ring.slot_for(block.start)
        ring.status[slot, idx] = block.status
        for name in _Ring.FIELDS[:-1]:
            getattr(ring, name)[slot, idx] = getattr(block, name)
        table = np.array([0] + [1 + self._error(text) for text in block.errors], np.int32)
        ring.error[slot, idx] = table[block.error]
        ring.closed = max(ring.closed, block.start)
        if block.hist is not None:
            self._put_hist(block.start, idx, block.hist)
        return True

    def _put_hist(self, hour: int, idx: np.ndarray, hist: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        offsets, buckets, counts = hist
        if np.array_equal(idx, np.arange(len(idx))):  # the file's order is ours (the usual case)
            self.hists[hour] = hist
        else:
            dense = np.zeros((len(self.services), BUCKETS), np.uint16)
            dense[np.repeat(idx, np.diff(offsets)), buckets] = counts
            svc, bucket = np.nonzero(dense)
            sizes = np.bincount(svc, minlength=len(self.services))
            self.hists[hour] = (
                np.concatenate(([0], np.cumsum(sizes))).astype(np.int32),
                bucket.astype(np.uint8),
                dense[svc, bucket],
            )
        self.fleet_hists[hour] = np.bincount(buckets, weights=counts, minlength=BUCKETS).astype(np.uint32)

    def replay_from(self) -> datetime | None:
        """From when the store must add its raw rows again to rebuild the open buckets (None: all)."""
        if self.minutes.closed < 0 or self.hours.closed < 0:
            return None
        first = min((self.minutes.closed + 1) * 60, (self.hours.closed + 1) * 3600)
        return datetime.fromtimestamp(first, UTC)

    # -- reading -------------------------------------------------------------------------------
    def _parts(self, since: datetime, until: datetime) -> list[tuple[_Ring, int, int]]:
        """The window as (ring, first, end) bucket ranges: whole hours inside, minutes at the edges."""
        s, u = since.timestamp(), until.timestamp()
        h0, h1, h_end = math.ceil(s / 3600), math.floor(u / 3600), math.ceil(u / 3600)
        m0, m_end = math.ceil(s / 60), math.ceil(u / 60)
        have = self.minutes.available_from()
        if h0 >= h1:
            return [(self.minutes, m0, m_end)] if m0 >= have else [(self.hours, h0, h_end)]
        parts = [(self.hours, h0, h1)]
        if m0 >= have:
            parts.append((self.minutes, m0, h0 * 60))
        parts.append((self.minutes, h1 * 60, m_end) if h1 * 60 >= have else (self.hours, h1, h_end))
        return parts

    def totals(self, service: str | None, since: datetime, until: datetime) -> dict[str, Totals]:
        """{service: Totals} over [since, until) for each service with a check in it (one, or all).

        Precision at the edges: the window's start is rounded up to the next whole minute while minute
        buckets reach back that far, else to the next whole hour (checks in the partial first minute
        or hour are left out); its end is rounded up to the end of the minute holding `until` (so
        until=now is exact), or of the hour once minutes no longer reach it."""
        col = slice(0, len(self.services)) if service is None else self._index.get(service)
        if col is None:
            return {}
        acc: list[np.ndarray] | None = None
        for ring, first, end in self._parts(since, until):
            _, slots = ring.held(first, end)
            if len(slots):
                sums = ring.sums(slots, col)
                acc = list(sums) if acc is None else [a + b for a, b in zip(acc, sums, strict=True)]
        if acc is None:
            return {}
        status, failed, up, answered, latency = (
            a.reshape(-1, len(STATUSES)) if k == 0 else a.reshape(-1) for k, a in enumerate(acc)
        )
        names = self.services if service is None else [service]
        out = {}
        for j, name in enumerate(names):
            checks = int(status[j].sum())
            if checks:
                counted = checks - int(status[j, MAINTENANCE])
                out[name] = Totals(checks, int(failed[j]), counted, int(up[j]), int(answered[j]), float(latency[j]))
        return out

    def uptime(self, service: str | None, since: datetime, until: datetime) -> dict[str, float | None]:
        """{service: % of counted checks that passed, to 3 places, None where nothing counted}; edges
        as `totals` says."""
        return {name: totals.uptime for name, totals in self.totals(service, since, until).items()}

    def percentiles(
        self, service: str | None, since: datetime, until: datetime, qs: Sequence[float] = (50, 95)
    ) -> dict[str, dict[float, float | None]]:
        """{service: {q: ms}} from the hour histograms, plus "*" (every answered check pooled) when
        service is None. Hour-grained: every hour overlapping [since, until) counts whole, and each
        value is within one latency bucket (±5 %) of numpy's over those hours' checks."""
        first, end = max(math.floor(since.timestamp() / 3600), self.hours.floor), math.ceil(until.timestamp() / 3600)
        hours = [h for h in range(first, end) if h in self.hists]
        open_hour = self.hours.current is not None and first <= self.hours.current < end
        n = len(self.services)
        if service is None:
            dense = self._fleet_dense(hours, n)
            fleet = sum((self.fleet_hists[h] for h in hours), np.zeros(BUCKETS, np.int64))
            if open_hour:
                dense += self._open_hist[:n]
                fleet = fleet + self._open_hist[:n].sum(axis=0)
            names, dense = [*self.services, "*"], np.vstack([dense, fleet])
        else:
            i = self._index.get(service)
            if i is None:
                return {}
            names, dense = [service], self._service_dense(hours, i)[None, :]
            if open_hour:
                dense[0] += self._open_hist[i]
        out = {}
        for name, counts in zip(names, dense, strict=True):
            sparse = {int(b): int(counts[b]) for b in np.flatnonzero(counts)}
            if sparse:
                out[name] = {q: percentile_from_counts(sparse, q) for q in qs}
        return out

    def _fleet_dense(self, hours: list[int], n: int) -> np.ndarray:
        """(n, BUCKETS) counts of every service over the closed `hours`."""
        flat, weights = [], []
        for h in hours:
            offsets, buckets, counts = self.hists[h]
            svc = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
            flat.append(svc * BUCKETS + buckets)
            weights.append(counts)
        if not flat:
            return np.zeros((n, BUCKETS), np.int64)
        summed = np.bincount(np.concatenate(flat), np.concatenate(weights), minlength=n * BUCKETS)
        return summed.astype(np.int64).reshape(n, BUCKETS)

    def _service_dense(self, hours: list[int], i: int) -> np.ndarray:
        dense = np.zeros(BUCKETS, np.int64)
        for h in hours:
            offsets, buckets, counts = self.hists[h]
            if i + 1 < len(offsets) and offsets[i + 1] > offsets[i]:
                span = slice(offsets[i], offsets[i + 1])
                dense[buckets[span]] += counts[span]  # one service's buckets in an hour are distinct
        return dense

    def chart_buckets(self, service: str, since: datetime, until: datetime, step: timedelta) -> list[ChartPoint]:
        """One point per `step` over [since, until) with checks: mean answered latency, worst status,
        failed and checks, last error. Read from minutes while the step is under an hour and minutes
        reach back to `since`, else from hours; the step is rounded up to whole buckets of that grain,
        points sit at their bucket's start (epoch-aligned, as the raw chart's floor), and every
        minute or hour that overlaps the window counts whole."""
        i = self._index.get(service)
        if i is None:
            return []
        s, u = since.timestamp(), until.timestamp()
        minutes_reach = math.floor(s / 60) >= self.minutes.available_from()
        ring = self.minutes if step < timedelta(hours=1) and minutes_reach else self.hours
        g = ring.seconds
        step_s = max(g, math.ceil(step.total_seconds() / g) * g)
        numbers, slots = ring.held(math.floor(s / g), math.ceil(u / g))
        status = ring.status[slots, i].astype(np.int64)
        has = status.sum(axis=1) > 0
        if not has.any():
            return []
        numbers, slots, status = numbers[has], slots[has], status[has]
        keys = numbers * g // step_s
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        grouped = np.add.reduceat(status, starts, axis=0)
        failed = np.add.reduceat(ring.failed[slots, i].astype(np.int64), starts)
        answered = np.add.reduceat(ring.answered[slots, i].astype(np.int64), starts)
        latency = np.add.reduceat(ring.latency_sum[slots, i].astype(np.float64), starts)
        errors = ring.error[slots, i]
        points = []
        for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
            worst = next(j for j in WORST_FIRST if grouped[k, j])
            nonzero = errors[a:b][errors[a:b] > 0]
            points.append(
                ChartPoint(
                    ts=datetime.fromtimestamp(int(keys[a]) * step_s, UTC),
                    latency_ms=round(float(latency[k] / answered[k]), 1) if answered[k] else None,
                    status=STATUSES[worst],
                    failed=int(failed[k]),
                    checks=int(grouped[k].sum()),
                    error=self.errors[nonzero[-1] - 1] if len(nonzero) else None,
                )
            )
        return points

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
