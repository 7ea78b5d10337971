"""Uptime and latency figures kept up to date check by check, from the same rows the history holds.

The store can compute them over a window (`HistoryStore.uptime`, `percentiles`), but at 1,000
services that is a scan of every row of the last 7 days per sweep. Here each window keeps running
counts and a sorted array of latencies per service: a new check is added as it is recorded, and at
the end of a sweep the rows that left a window are read back from the store (`rows_between`, a few
rows) and taken out. That holds for the windows within the raw rows the store reads quickly (its
`memory`, sized from the fleet by ops/history/open.py); the longer ones (7 d, and 24 h at 1,000
services) are asked from the store, which reads them from its rollups: bucket sums, never days of raw
rows, but still ~1 s a fleet on PostgreSQL and ~0.1 s embedded at 1,000 services, so such costly
asks at most once a minute (`_due`); a cheap one (a small fleet) every sweep. The figures are the
same numbers the store gives for the same rows, as of its last answer (tests/unit/test_figures.py
holds them to it). When the store drops rows by itself (retention, its `generation` moves), or the
clock steps back, it starts over from the store's `tallies`.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta

import numpy as np

from ops.history.protocol import HistoryStore
from ops.history.rows import CheckRow, round_latency
from ops.stats import LATENCY_WINDOWS, NOT_COUNTED, UPTIME_WINDOWS

LONGEST = max(UPTIME_WINDOWS.values())
# A window asked from the store is asked again after this much time. A day's figure a minute old
# misses at most one minute of its 1,440 (0.07 % of its checks) and still counts the minute that
# left it: less than the rollup read itself is off by at the window's start (the rollups' edge is a
# whole minute or hour) and far below a bucket percentile's ±5 %. The checks not folded yet are in
# every answer (the stores roll them up in the read), so an answer is as of its sweep, never a fold
# behind. What a minute could make false outright ("no data", 100 %, 0 %) is asked at once
# (`_contradicts`); the 1 h figures, kept running, show every check at once anyway.
ASK_EVERY = timedelta(minutes=1)
# An ask that took less than this (a small fleet: a few ms) is made again every sweep. With young
# history a minute is a large share of every window, and a 7 d figure a minute old contradicted the
# 1 h and 24 h ones beside it on the page (85.0 % against 94.4 %, ten minutes into a demo).
CHEAP_ASK = timedelta(milliseconds=50)


class SortedValues:
    """Floats kept sorted in one numpy buffer: insert and remove are a memmove, percentiles O(1)."""

    def __init__(self) -> None:
        self._a = np.empty(16)
        self.n = 0

    def add(self, value: float) -> None:
        if self.n == len(self._a):
            self._a = np.concatenate([self._a, np.empty(len(self._a))])
        i = int(self._a[: self.n].searchsorted(value))  # the method: np.searchsorted's dispatch costs 3x
        self._a[i + 1 : self.n + 1] = self._a[i : self.n]
        self._a[i] = value
        self.n += 1

    def remove(self, value: float) -> None:
        i = int(self._a[: self.n].searchsorted(value))
        if i < self.n and self._a[i] == value:
            self._a[i : self.n - 1] = self._a[i + 1 : self.n]
            self.n -= 1

    def percentile(self, p: float) -> float | None:
        """numpy's default ("linear") percentile of the values, None when there are none."""
        n = self.n
        if n == 0:
            return None
        index = (n - 1) * (p / 100.0)
        below = math.floor(index)
        if below >= n - 1:
            return float(self._a[n - 1])
        # Python floats: the same IEEE doubles as numpy's scalars, without their per-operation cost.
        a, b, t = float(self._a[below]), float(self._a[below + 1]), index - below
        diff = b - a
        return b - diff * (1 - t) if t >= 0.5 else a + diff * t  # numpy's _lerp, to the last bit


class _Service:
    """Running figures of one service: per uptime window [counted, passed], per latency window values."""

    def __init__(self, running: set[str]) -> None:
        self.counts = {label: [0, 0] for label in UPTIME_WINDOWS if label in running}
        self.latencies = {label: SortedValues() for label in LATENCY_WINDOWS if label in running}

    def change(self, labels, counted: bool, passed: bool, latency: float | None, sign: int) -> None:
        for label in labels:
            if label in self.counts and counted:
                pair = self.counts[label]
                pair[0] += sign
                pair[1] += sign if passed else 0
            if label in self.latencies and latency is not None:
                values = self.latencies[label]
                values.add(latency) if sign > 0 else values.remove(latency)

    def figures(self) -> dict:
        uptime = {label: None if c == 0 else round(100.0 * p / c, 3) for label, (c, p) in self.counts.items()}
        latency = {}
        for label, values in self.latencies.items():
            for p in (50, 95):
                value = values.percentile(p)
                latency[f"p{p}_{label}"] = None if value is None else round(value, 1)
        return {"uptime": uptime, "latency": latency}


class Figures:
    """Per-service uptime (1 h, 24 h, 7 d) and latency p50/p95 (1 h, 24 h), incrementally."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        at_hand = store.memory  # windows the store answers from raw checks (the protocol)
        spans = {**UPTIME_WINDOWS, **LATENCY_WINDOWS}
        self._spans = {label: span for label, span in spans.items() if span <= at_hand}  # kept running
        self._asked_uptime = {k: v for k, v in UPTIME_WINDOWS.items() if k not in self._spans}
        self._asked_latency = {k: v for k, v in LATENCY_WINDOWS.items() if k not in self._spans}
        self._asked: dict[str, dict] = {}  # {name: {"uptime": {...}, "latency": {...}}} of the others
        self._asked_at: datetime | None = None
        self._ask_cost = timedelta(0)  # how long the last ask took
        self.cheap_ask = CHEAP_ASK  # asks quicker than this are made every sweep (tests set it)
        self._contradicted = False  # a check since the last answer makes one of its figures false
        self._services: dict[str, _Service] = {}
        self._starts: dict[str, datetime] = {}
        self._generation = -1
        self._lock = threading.Lock()

    def rebuild(self, now: datetime) -> None:
        """Start over from the store's tallies (at start-up, after retention, after a clock step)."""
        generation = self.store.generation  # read first: rows dropped meanwhile make the next advance rebuild
        services: dict[str, _Service] = {}
        for label, span in self._spans.items():
            for name, tally in self.store.tallies(now - span, latencies=label in LATENCY_WINDOWS).items():
                service = services.setdefault(name, _Service(set(self._spans)))
                if label in UPTIME_WINDOWS:
                    service.counts[label] = [tally.counted, tally.passed]
                if label in LATENCY_WINDOWS and len(tally.latencies):  # an empty buffer could not grow
                    values = service.latencies[label]
                    values._a = np.array(tally.latencies, dtype=float)
                    values.n = len(values._a)
        with self._lock:
            self._services = services
            self._starts = {label: now - span for label, span in self._spans.items()}
            self._generation = generation
        self._ask(now)

    def add(self, name: str, status: str, latency_ms: float | None, error: str | None) -> None:
        """One new check, as the store keeps it (latency rounded to 0.1 ms)."""
        counted = status not in NOT_COUNTED
        latency = None if error is not None else round_latency(latency_ms)
        with self._lock:
            service = self._services.get(name)
            if service is None:  # not setdefault: that built a _Service (and its buffers) every check
                service = self._services[name] = _Service(set(self._spans))
            service.change(self._spans, counted, error is None and counted, latency, +1)
            if not self._contradicted and (self._asked_uptime or self._asked_latency):
                self._contradicted = _contradicts(self._asked.get(name), counted, error is None and counted, latency)

    def advance(self, now: datetime) -> None:
        """Move every window's start to `now - span`, taking out the rows that left it."""
        if self.store.generation != self._generation or any(now - s < self._starts[k] for k, s in self._spans.items()):
            self.rebuild(now)
            return
        for label, span in self._spans.items():
            start = now - span
            gone = self.store.rows_between(self._starts[label], start)
            with self._lock:
                self._take_out(label, gone)
                self._starts[label] = start
        if self._due(now):
            self._ask(now)

    def _due(self, now: datetime) -> bool:
        """Whether to ask the store again: every sweep while an ask is cheap, else a minute after its
        last answer, or at once when a check contradicts it."""
        if self._contradicted or self._asked_at is None or self._ask_cost < self.cheap_ask:
            return True
        return not timedelta(0) <= now - self._asked_at < ASK_EVERY

    def _ask(self, now: datetime) -> None:
        """The windows not kept running, from the store (its rollups past its raw rows at hand)."""
        if not self._asked_uptime and not self._asked_latency:
            return
        with self._lock:  # cleared first: a check added during the read is asked about next sweep
            self._asked_at, self._contradicted = now, False
        began = time.perf_counter()
        uptime = self.store.uptime(self._asked_uptime, now) if self._asked_uptime else {}
        latency = self.store.percentiles(self._asked_latency, now) if self._asked_latency else {}
        self._ask_cost = timedelta(seconds=time.perf_counter() - began)
        asked = {}
        for name in {*uptime, *latency} - {"*"}:
            keys = [f"p{p}_{label}" for label in self._asked_latency for p in (50, 95)]
            asked[name] = {
                "uptime": {label: uptime.get(name, {}).get(label) for label in self._asked_uptime},
                "latency": {key: latency.get(name, {}).get(key) for key in keys},
            }
        with self._lock:
            self._asked = asked

    def _take_out(self, label: str, rows: list[CheckRow]) -> None:
        for row in rows:
            service = self._services.get(row.service)
            if service is not None:
                counted = row.status not in NOT_COUNTED
                service.change((label,), counted, row.error is None and counted, row.answered_ms, -1)

    def of(self, name: str) -> dict:
        """{"uptime": {...}, "latency": {...}} of one service (None where nothing counted)."""
        with self._lock:
            service, asked = self._services.get(name), self._asked.get(name)
        if service is None and asked is None:
            return {}
        figures = service.figures() if service is not None else {"uptime": {}, "latency": {}}
        asked = asked or {
            "uptime": dict.fromkeys(self._asked_uptime),
            "latency": {f"p{p}_{label}": None for label in self._asked_latency for p in (50, 95)},
        }
        uptime = {**figures["uptime"], **asked["uptime"]}
        latency = {**figures["latency"], **asked["latency"]}
        return {
            "uptime": {label: uptime.get(label) for label in UPTIME_WINDOWS},
            "latency": {f"p{p}_{label}": latency.get(f"p{p}_{label}") for label in LATENCY_WINDOWS for p in (50, 95)},
        }


def _contradicts(asked: dict | None, counted: bool, passed: bool, latency: float | None) -> bool:
    """Whether one new check makes an asked figure false rather than a little old: "no data" once
    there is some, 100 % after a failure, 0 % after a pass (a minute of such a figure was a lie)."""
    if asked is None:
        return counted or latency is not None
    for value in asked["uptime"].values():
        if counted and (value is None or (value == 100.0 and not passed) or (value == 0.0 and passed)):
            return True
    return latency is not None and any(value is None for value in asked["latency"].values())
