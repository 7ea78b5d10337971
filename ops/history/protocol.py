"""What every history store answers: named queries over check rows, so no view slices a frame itself.

Two implementations hold to it: the embedded JSON-lines store (the default, no server) and the
PostgreSQL store (several dashboards over one history). tests/contract/ runs one suite against both
(the Gatus pattern): a query that answers differently in one of them is a failing test.

Conventions every implementation keeps:
- Times are timezone-aware UTC datetimes; rows come oldest first.
- A failed check (error is not None) has no latency in any answer: `CheckRow.latency_ms` is what the
  probe measured (kept for the record), `CheckRow.answered_ms` is what views show and aggregate.
- Uptime is the share of counted checks that passed; "maintenance" is not counted. Degraded passed.
- Percentiles are numpy's default ("linear") over answered checks while the window lies within the
  raw checks the store reads quickly (`memory`: all of the raw retention for a small fleet, a few
  hours at 1,000 services; ops/history/open.py sizes it the same for both stores), and read from the
  latency buckets of the rollups beyond it (within one bucket's width, about ±5 %, see
  ops/history/buckets.py). Uptime beyond it is summed from the rollups' counts (exact but for the
  minute or hour at the window's start).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from ops.history.rows import ChartPoint, CheckRow, LastRun, Tally
from ops.probes import ProbeResult


class StoreUnusable(RuntimeError):
    """The store exists but this version must not use it (e.g. a database migrated by a newer one):
    the dashboard says why and exits instead of writing what it does not understand."""


@runtime_checkable
class HistoryStore(Protocol):
    """The history of checks: one append per sweep, named queries for every view."""

    raw_retention: timedelta  # raw checks are kept this long
    memory: timedelta  # windows starting within this span are answered from raw checks (exact)
    retention: timedelta  # aggregates (and so uptime and charts) this long
    # Bumped whenever raw rows leave other than by being read (load, drop_expired): a reader keeping
    # running totals over them (ops/figures.py) starts over from `tallies` when it changes.
    generation: int

    # -- life cycle ----------------------------------------------------------------------------
    def load(self) -> int:
        """Open the store (read files / run migrations); return the raw rows it holds."""

    def close(self) -> None:
        """Flush and release files, connections and threads. Idempotent."""

    def flush(self) -> None:
        """Make every appended sweep durable (fsync / commit); failures are reported, not raised."""

    def storage_status(self) -> dict:
        """{"ok", "error", "since", "unsaved_sweeps"}: whether sweeps reach the storage."""

    def __len__(self) -> int:
        """Raw rows held."""

    # -- writing -------------------------------------------------------------------------------
    def append(self, ts: datetime, results: Sequence[ProbeResult]) -> None:
        """Store one sweep (one batched write) and fold it into the rollups. Never raises for a full
        disk or a lost server: the sweep is held and retried, and storage_status() says so."""

    # Named drop_expired, not retention: a method of that name would hide the `retention` attribute
    # above (a class cannot have both), so no implementation could keep the two.
    def drop_expired(self, now: datetime) -> dict[str, int]:
        """Drop raw rows older than now - raw_retention and aggregates older than now - retention;
        {"raw": rows dropped, "minute": ..., "hour": ...} (only the kinds the store keeps)."""

    # -- reading -------------------------------------------------------------------------------
    def recent_checks(
        self,
        *,
        service: str | None = None,
        since: datetime | None = None,
        sweeps: int | None = None,
        per_service: int | None = None,
    ) -> list[CheckRow]:
        """Raw rows, oldest first: from `since`, of one service, of the last `sweeps` sweeps (a sweep
        is one timestamp among the rows matched), and/or at most the last `per_service` per service."""

    def spark_points(self, names: Iterable[str], points: int, since: datetime) -> dict[str, list]:
        """{name: [[epoch ms, answered ms or None, status, error or None], ...]}: the last `points`
        checks of each named service from `since`, oldest first; every name has an entry."""

    def chart_points(self, service: str, window: timedelta, buckets: int, now: datetime) -> list[ChartPoint]:
        """At most `buckets` points over [now - window, now]: each raw check while there are no more
        than `buckets`, else one point per time bucket (mean answered latency, worst status, failed
        count, last error). Windows reaching beyond `memory` read the rollups."""

    def uptime(
        self, windows: Mapping[str, timedelta], now: datetime, service: str | None = None
    ) -> dict[str, dict[str, float | None]]:
        """{service: {label: % rounded to 3 places, or None where nothing counted}} for each window."""

    def percentiles(
        self,
        windows: Mapping[str, timedelta],
        now: datetime,
        qs: Sequence[int] = (50, 95),
        service: str | None = None,
    ) -> dict[str, dict[str, float | None]]:
        """{service: {f"p{q}_{label}": ms rounded to 0.1}} over answered checks. The key "*" holds the
        whole fleet's (all services' answered checks pooled)."""

    def csv_rows(self, since: datetime | None = None, service: str | None = None) -> Iterator[CheckRow]:
        """Every raw row from `since` (of one service), oldest first, streamed for an export."""

    def rows_between(self, start: datetime, end: datetime) -> list[CheckRow]:
        """Raw rows with start <= ts < end, oldest first (a sweep's few rows leaving a window)."""

    # -- added with the embedded store (issue 13 part 1) ---------------------------------------
    # Where the docstrings above leave a shape open, tests/contract/test_history_store.py fixes it:
    # uptime() gives each service with a row in the longest window every label (None where nothing
    # counted); percentiles() each service with an answered check in any window every key (None where
    # its window has none), and always the fleet key "*" (pooled over the one service asked for, when
    # one is). Windows run from now - span with no upper bound (a row after `now`, a clock step, counts).
    def last_runs(self, names: Iterable[str]) -> dict[str, LastRun]:
        """{name: how its raw history ends} for each named service with any raw row (start-up seeding)."""

    def tallies(self, since: datetime, latencies: bool = False) -> dict[str, Tally]:
        """{service: Tally} over raw rows from `since` (no upper bound), for every service with a row
        there; each Tally's latencies are filled only when asked (they are many)."""
