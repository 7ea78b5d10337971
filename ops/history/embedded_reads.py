"""The embedded store's named queries (ops/history/protocol.py), and where each one reads.

Where each query is answered:
- uptime, percentiles, chart_points: from the frame while the window starts within it (exact, numpy's
  linear percentiles), else from the rollups (uptime exact but for the window's partial first
  minute, percentiles hour-grained within one latency bucket, charts in minute or hour steps).
- recent_checks, csv_rows, rows_between, tallies reaching back past the frame: the file is read from
  the first line of the window (found by bisection, ops/history/embedded_cold.py), a chunk at a time.
- spark_points and last_runs: the frame (recent by nature).

A mixin of EmbeddedStore (ops/history/embedded.py): it uses that class's frame(), between(), lock,
rollups and the moments its memory and raw retention start.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

import pandas as pd

from ops.history import embedded_queries as q
from ops.history.embedded_cold import file_frames
from ops.history.embedded_frame import WindowRows, check_rows, concat_frames, empty_frame, window_rows
from ops.history.rows import ChartPoint, CheckRow, LastRun, Tally


class EmbeddedReads:
    """EmbeddedStore's read side: the frame while a window starts within it, else rollups or the file."""

    def recent_checks(
        self,
        *,
        service: str | None = None,
        since: datetime | None = None,
        sweeps: int | None = None,
        per_service: int | None = None,
    ) -> list[CheckRow]:
        frame = self.frame(since=since, service=service)
        if self._in_memory(since):
            return check_rows(q.last_per_service(q.last_sweeps(frame, sweeps), per_service))
        if sweeps is not None and q.sweep_count(frame) >= sweeps:  # the last sweeps are all in memory
            return check_rows(q.last_per_service(q.last_sweeps(frame, sweeps), per_service))

        def limit(part: pd.DataFrame) -> pd.DataFrame:  # what the last rows can still need, chunk by chunk
            return q.last_sweeps(part, sweeps) if sweeps is not None else q.last_per_service(part, per_service)

        kept = empty_frame()
        for chunk in self._cold_frames(since, service):
            kept = limit(concat_frames([kept, chunk]))
        return check_rows(q.last_per_service(limit(concat_frames([kept, frame])), per_service))

    def spark_points(self, names: Iterable[str], points: int, since: datetime) -> dict[str, list]:
        return q.spark_points(self.frame(since=since), names, points)

    def chart_points(self, service: str, window: timedelta, buckets: int, now: datetime) -> list[ChartPoint]:
        if not self._in_memory(now - window):
            with self._lock:
                return self._rollups.chart(service, window, buckets, now)
        return q.chart_points(self.frame(since=now - window, service=service), window, buckets)

    def uptime(
        self, windows: Mapping[str, timedelta], now: datetime, service: str | None = None
    ) -> dict[str, dict[str, float | None]]:
        raw, rolled = self._split(windows, now)
        out = q.uptime(self._window_frame(raw, now, service), raw, now) if raw else {}
        if rolled:
            with self._lock:
                _merge(out, self._rollups.uptime(rolled, now, service))
        return {name: {label: figures.get(label) for label in windows} for name, figures in out.items()}

    def percentiles(
        self,
        windows: Mapping[str, timedelta],
        now: datetime,
        qs: Sequence[int] = (50, 95),
        service: str | None = None,
    ) -> dict[str, dict[str, float | None]]:
        raw, rolled = self._split(windows, now)
        out = q.percentiles(self._window_rows(raw, now, service), raw, now, qs) if raw else {}
        if rolled:
            with self._lock:
                _merge(out, self._rollups.percentiles(rolled, now, qs, service))
        keys = [f"p{x}_{label}" for label in windows for x in qs]
        out.setdefault(q.FLEET, {})
        return {name: {key: figures.get(key) for key in keys} for name, figures in out.items()}

    def csv_rows(self, since: datetime | None = None, service: str | None = None) -> Iterator[CheckRow]:
        if not self._in_memory(since):
            for chunk in self._cold_frames(since, service):
                yield from q.csv_chunks(chunk)
        yield from q.csv_chunks(self.frame(since=since, service=service))

    def rows_between(self, start: datetime, end: datetime) -> list[CheckRow]:
        rows = [] if self._in_memory(start) else [r for f in self._cold_frames(start, None, end) for r in check_rows(f)]
        return rows + check_rows(self.between(start, end))

    def last_runs(self, names: Iterable[str]) -> dict[str, LastRun]:
        return q.last_runs(self.frame(), names)

    def tallies(self, since: datetime, latencies: bool = False) -> dict[str, Tally]:
        frame = self.frame(since=since)
        if not self._in_memory(since):  # not what ops/figures.py asks (it keeps within `memory`): rare
            frame = concat_frames([*self._cold_frames(since, None), frame])
        return q.tallies(frame, latencies)

    # -- where a query reads -------------------------------------------------------------------
    def _in_memory(self, since: datetime | None) -> bool:
        """Whether the frame holds every raw row from `since` on."""
        start = self._memory_from
        return start is None or (since is not None and since >= start)

    def _split(self, windows: Mapping[str, timedelta], now: datetime) -> tuple[dict, dict]:
        """(windows the frame holds, windows read from the rollups)."""
        raw = {label: span for label, span in windows.items() if self._in_memory(now - span)}
        return raw, {label: span for label, span in windows.items() if label not in raw}

    def _cold_frames(
        self, since: datetime | None, service: str | None, until: datetime | None = None
    ) -> Iterator[pd.DataFrame]:
        """Rows from `since` up to the frame's first (or `until`), read from the file."""
        if self.path is None or self._memory_from is None:
            return iter(())
        start = max(since or self._raw_from, self._raw_from)
        end = self._memory_from if until is None else min(until, self._memory_from)
        return file_frames(self.path, start, end, service) if start < end else iter(())

    def _window_rows(self, windows: Mapping[str, timedelta], now: datetime, service: str | None) -> WindowRows:
        """The longest window's rows as arrays, the pending sweeps included without a merge."""
        with self._lock:
            frame, pending = self._frame, list(self._pending)
        rows = window_rows(frame, pending, now - max(windows.values(), default=timedelta(0)))
        return rows if service is None else rows.only(service)

    def _window_frame(self, windows: Mapping[str, timedelta], now: datetime, service: str | None) -> pd.DataFrame:
        longest = max(windows.values(), default=timedelta(0))
        return self.frame(since=now - longest, service=service)


def _merge(out: dict[str, dict], more: dict[str, dict]) -> None:
    for name, figures in more.items():
        out.setdefault(name, {}).update(figures)
