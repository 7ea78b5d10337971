"""The embedded store's rollups: ops/history/rollup.py in memory, ops/history/rollup_file.py on disk.

The store calls this under its lock (Rollups is not thread-safe): every sweep is folded in and the
buckets it closes are appended to the rollup files; at load the files are read and the raw rows from
`replay_from()` are fed again to rebuild the open buckets. Queries over windows that reach back past
the raw rows the store holds in memory are answered here, in the protocol's shapes.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from ops.append_file import WriteHealth
from ops.history.embedded_frame import check_rows
from ops.history.rollup import MINUTE_KEEP, Rollups
from ops.history.rollup_file import RollupFiles
from ops.history.rows import ChartPoint, CheckRow

FLEET = "*"
AFTER_NOW = timedelta(minutes=1)  # windows have no upper bound: a row stamped a little after `now` counts


class StoreRollups:
    """Minute aggregates for a day (at most `retention`), hour aggregates for `retention`."""

    def __init__(self, history_path: Path | None, retention: timedelta, health: WriteHealth | None = None) -> None:
        self.minute_keep, self.hour_keep = min(MINUTE_KEEP, retention), retention
        self.rollups = Rollups(self.minute_keep, self.hour_keep)
        self.files = RollupFiles(history_path, health) if history_path is not None else None
        self.newest: datetime | None = None

    # -- writing -------------------------------------------------------------------------------
    def load(self) -> datetime | None:
        """Read the files; from when raw rows must be fed again (None: every raw row)."""
        if self.files is not None:
            self.files.load(self.rollups)
        return self.rollups.replay_from()

    def add(self, ts: datetime, rows: Sequence[CheckRow]) -> None:
        """One sweep; the buckets it closes go to the files."""
        self.rollups.add(ts, rows)
        if self.files is not None:
            self.files.append(self.rollups)
            for file in self.files.files:
                if file.out.held:  # refused by a full disk: retried every sweep, not only at the next bucket
                    file.out.append(b"")
        self.newest = ts if self.newest is None else max(self.newest, ts)

    def replay(self, frame: pd.DataFrame) -> None:
        """Raw rows read back at load (in time order): sweep by sweep, as they were appended."""
        for ts, rows in itertools.groupby(check_rows(frame), key=lambda row: row.ts):
            self.add(ts, list(rows))

    def retention(self, now: datetime) -> dict[str, int]:
        """Drop buckets past their keep, in memory and (now and then) in the files."""
        dropped = self.rollups.retention(now, self.minute_keep, self.hour_keep)
        if self.files is not None:
            self.files.retention(self.rollups, self.minute_keep, self.hour_keep)
        return dropped

    def flush(self) -> None:
        if self.files is not None:
            self.files.flush()

    def close(self) -> None:
        if self.files is not None:
            self.files.close()

    def status(self) -> dict | None:
        """The files' write health while they hold buckets the disk refused; else None (a file that
        could not be opened on a full disk has lost nothing and is retried at its next bucket)."""
        if self.files is None or not any(file.out.held for file in self.files.files):
            return None
        return self.files.status()

    # -- reading -------------------------------------------------------------------------------
    def _until(self, now: datetime) -> datetime:
        return max(now, self.newest or now) + AFTER_NOW

    def uptime(self, windows: Mapping[str, timedelta], now: datetime, service: str | None) -> dict[str, dict]:
        """{service: {label: %}} for every service with a check in any of the windows."""
        until = self._until(now)
        per_label = {label: self.rollups.uptime(service, now - span, until) for label, span in windows.items()}
        names = dict.fromkeys(name for figures in per_label.values() for name in figures)
        return {name: {label: per_label[label].get(name) for label in windows} for name in names}

    def percentiles(
        self, windows: Mapping[str, timedelta], now: datetime, qs: Sequence[int], service: str | None
    ) -> dict[str, dict]:
        """{service: {f"p{q}_{label}": ms}} from the hour histograms, with the fleet's under "*"."""
        until, out = self._until(now), {}
        for label, span in windows.items():
            found = self.rollups.percentiles(service, now - span, until, qs)
            if service is not None and service in found:
                found[FLEET] = found[service]  # the fleet of the one service asked for
            for name, values in found.items():
                out.setdefault(name, {}).update({f"p{q}_{label}": values[q] for q in qs})
        return out

    def chart(self, service: str, window: timedelta, buckets: int, now: datetime) -> list[ChartPoint]:
        """At most `buckets` points over the window: steps of window / (buckets - 1), so the epoch-aligned
        steps the window overlaps (one more than it spans whole) still number no more than `buckets`."""
        step = window / max(buckets - 1, 1)
        points = self.rollups.chart_buckets(service, now - window, self._until(now), step)
        return points[-buckets:] if buckets > 0 else []
