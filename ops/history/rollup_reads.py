"""The Rollups' queries: totals and uptime over a window, latency percentiles, chart buckets.

A mixin of Rollups (ops/history/rollup.py): it reads that class's rings (rollup_ring.py) and hour
histograms. Windows use whole hours inside and minutes at the edges while minutes reach back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from ops.history.buckets import BUCKETS, percentile_from_counts
from ops.history.rollup_ring import MAINTENANCE, STATUSES, WORST_FIRST, Ring
from ops.history.rows import ChartPoint


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


class RollupReads:
    """Rollups' read side; see the module docstring."""

    def _parts(self, since: datetime, until: datetime) -> list[tuple[Ring, int, int]]:
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
