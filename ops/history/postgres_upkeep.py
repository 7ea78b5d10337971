"""The PostgreSQL store's background work: folding closed minutes into the rollups, and retention.

Only the dashboard that writes (the leader) does either: both start from append(). A fold runs on
its own thread once a sweep's minute has closed since the last fold, so a sweep's write stays one
INSERT (ops/history/postgres_write.py); retention runs about once an hour. A failure is logged and
tried again at the next occasion: the readers add unfolded rows themselves, so a late fold changes
no figure, and retention never deletes a raw row the rollups do not hold yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg_pool import ConnectionPool

from ops.history.postgres_write import FOLDED_UNTIL_SQL, fold_rows

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0  # drop_expired runs this often
RETENTION_FIRST_S = 600.0  # ... first this long after the store is made (start-up is busy enough)
DELETE_BATCH = 10_000  # rows per retention DELETE: short transactions, no long lock


def minute_of(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(second=0, microsecond=0)


class Upkeep:
    """Runs the fold and retention for one store, each on a thread of its own, one at a time."""

    def __init__(self, pool: ConnectionPool, describe: Callable[[BaseException], str]) -> None:
        self._pool = pool
        self._describe = describe
        self._lock = threading.Lock()
        self._folded: datetime | None = None  # the fold mark as last seen (None: not read yet)
        self._wanted: datetime | None = None  # the newest minute start a fold was asked to reach
        self._folding = False  # a fold thread runs (set and cleared under _lock)
        self._fold: threading.Thread | None = None
        self._retention: threading.Thread | None = None
        self._next_retention = time.monotonic() + RETENTION_FIRST_S
        self.last_fold_ms: float | None = None  # how long the last fold took (bench/history_scale.py)

    # -- folding -------------------------------------------------------------------------------
    def after_write(self, newest: datetime, drop_expired: Callable[[], object]) -> None:
        """A sweep as new as `newest` was written: fold the minutes closed before it, and run
        retention when it is due, each on a thread (a fold asked for while one runs is done next)."""
        with self._lock:
            until = minute_of(newest)
            self._wanted = until if self._wanted is None else max(self._wanted, until)
            if not self._folding and (self._folded is None or self._wanted > self._folded):
                self._folding = True
                self._fold = _start("history-fold", self._fold_wanted)
            if time.monotonic() >= self._next_retention and not _alive(self._retention):
                self._next_retention = time.monotonic() + RETENTION_EVERY_S
                self._retention = _start("history-retention", drop_expired)

    def _fold_wanted(self) -> None:
        """Fold until the newest minute asked for, also one asked for while folding; stop on a failure."""
        try:
            while True:
                with self._lock:
                    until = self._wanted
                    if until is None or (self._folded is not None and until <= self._folded):
                        return
                if self.fold(until) is None:
                    return
        finally:
            with self._lock:  # under the lock: after_write starts the next fold itself
                self._folding = False

    def fold(self, until: datetime) -> int | None:
        """Fold the raw rows before `until` into the rollups now, in steps of a bounded size (each
        its own transaction: a backlog after an outage never outgrows the statement timeout, and
        sweeps are written between steps); returns how many rows were folded, or None on a failure
        (logged; the next sweep tries again from where the steps got)."""
        began, folded = time.perf_counter(), 0
        while True:
            try:
                with self._pool.connection() as conn, conn.transaction():
                    rows, mark = fold_rows(conn, until)
            except psycopg.Error as exc:  # the server, a timeout, a read-only server after a failover
                log.warning("history database: rollups not folded (%s); tried again later", self._describe(exc))
                return None
            folded += rows
            with self._lock:
                self._folded = mark
            if mark >= until:
                break
        self.last_fold_ms = (time.perf_counter() - began) * 1000.0
        return folded

    def wait(self, timeout: float = 30.0) -> None:
        """Let a running fold or retention finish (close, tests, benches)."""
        for thread in (self._fold, self._retention):
            if thread is not None:
                thread.join(timeout)

    # -- retention -----------------------------------------------------------------------------
    def delete_before(self, plan: dict[str, tuple[str, str, datetime]]) -> dict[str, int]:
        """Batched deletes of {kind: (table, column, cutoff)}; raw rows only once they are folded
        (the cutoff of `checks` is held at the fold mark), so no check leaves the figures unfolded."""
        dropped = dict.fromkeys(plan, 0)
        try:
            with self._pool.connection() as conn:
                for kind, (table, column, cutoff) in plan.items():
                    bound = f"least(%s, ({FOLDED_UNTIL_SQL}))" if table == "checks" else "%s"
                    sql = (
                        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                        f"SELECT ctid FROM {table} WHERE {column} < {bound} LIMIT {DELETE_BATCH}))"
                    )
                    while True:
                        count = conn.execute(sql, (cutoff,)).rowcount
                        dropped[kind] += count
                        if count < DELETE_BATCH:
                            break
        except psycopg.OperationalError as exc:
            log.warning("history database: retention stopped early (%s); the next run goes on", self._describe(exc))
        return dropped


def _alive(thread: threading.Thread | None) -> bool:
    return thread is not None and thread.is_alive()


def _start(name: str, target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
