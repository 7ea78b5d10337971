"""The history in PostgreSQL, so several dashboards share one: raw checks plus minute and hour rollups.

One INSERT of arrays into `checks` per sweep (ops/history/postgres_write.py); the minute and hour
rollups are folded from the raw rows once a minute, and retention runs about hourly, both on threads
started by append(), so only the dashboard that writes (the leader) does them
(ops/history/postgres_upkeep.py). The queries are SQL over raw rows within the raw retention and over
the rollups, plus the rows not folded yet, beyond it (ops/history/postgres_read.py).

A lost server never raises out of append(): sweeps are held (up to MAX_HELD_ROWS, oldest given up
first), storage_status() says so, and the next append writes them. A failed read answers empty (and
moves `generation`, so figures built from the store start over once reads work); reads then answer
at once for READ_RETRY_S before trying again. A read waits at most POOL_WAIT_S for a connection plus
STATEMENT_TIMEOUT_MS for its statement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import ConnectionPool

from ops.history import postgres_read as q
from ops.history.buckets import percentile_from_counts
from ops.history.postgres_schema import migrate
from ops.history.postgres_upkeep import Upkeep, minute_of
from ops.history.postgres_write import FOLDED_UNTIL_SQL, Columns, join_columns, sweep_columns, write_columns
from ops.history.protocol import StoreUnusable
from ops.history.rows import ChartPoint, CheckRow, LastRun, Tally
from ops.probes import ProbeResult

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 5000  # a statement runs at most this long (after its wait for a connection)
CONNECT_TIMEOUT_S = 3  # libpq's connect_timeout (whole seconds, at least 2)
POOL_WAIT_S = 3.0  # a caller waits this long for a connection before the store reports it down
FAILING_WAIT_S = 1.0  # ... and a sweep while it is known to be gone
READ_RETRY_S = 5.0  # after a failed read or write, reads answer empty at once for this long
MAX_HELD_ROWS = 200_000  # about 3 days of 10 services at 40 s: held sweeps beyond are given up, oldest first
WRITE_BATCH_ROWS = 5_000  # held sweeps are written back in transactions of about this many rows
MINUTE_BEYOND_RAW = timedelta(days=1)  # minute rollups outlive raw rows by this (hour rollups: retention)
LEN_CACHE_S = 5.0  # count(*) is a scan: len() is recounted at most this often (and after our writes)


class PostgresStore:
    """The HistoryStore protocol (ops/history/protocol.py) over a PostgreSQL database."""

    def __init__(
        self,
        url: str,
        raw_retention: timedelta,
        retention: timedelta,
        *,
        memory: timedelta | None = None,
        pool_size: int = 4,
    ) -> None:
        self.url = url
        self.raw_retention = raw_retention
        # Windows starting within `memory` read raw rows (exact); open.py sizes it from the fleet as for
        # the embedded store, so no query scans millions of raw rows (a day at 1,000 services is 8.6 M).
        self.memory = raw_retention if memory is None else min(memory, raw_retention)
        self.retention = max(retention, raw_retention)
        self.minute_retention = min(self.retention, raw_retention + MINUTE_BEYOND_RAW)
        self.generation = 0
        # jit=off: compiling a query plan took 3.8 s of a 3.9 s rollup read (PostgreSQL 15's default);
        # these statements are short, and read indexes.
        options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC -c jit=off"
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            timeout=POOL_WAIT_S,
            check=ConnectionPool.check_connection,  # a connection the server dropped is replaced, not used
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S, "options": options},
            name="history",
        )
        self._held: deque[Columns] = deque()  # sweeps not written yet, oldest first
        self._held_rows = self._given_up = 0
        self._write_lock = threading.Lock()
        self._migrated = self._closed = False
        self._unusable: str | None = None  # the database was migrated by a newer version: never written
        self._error: str | None = None
        self._since: str | None = None
        self._failed_at = 0.0
        # Reads have their own failure state: a follower never writes, so only a read can clear it.
        self._read_error: str | None = None
        self._read_since: str | None = None
        self._read_failed_at = 0.0
        self._count: tuple[float, int] | None = None
        self._mark = q.EPOCH  # the fold mark as last read: it only moves forward (postgres_read.unfolded)
        self.upkeep = Upkeep(self._pool, _describe)

    # -- life cycle ----------------------------------------------------------------------------
    def load(self) -> int:
        """Open the pool and migrate the schema; an unreachable server is reported, and retried later."""
        if self._pool.closed:
            self._pool.open(wait=False)
        with self._write_lock:
            self._ensure_schema()
        if self._unusable is not None:  # at start the dashboard says so and exits (dash_app/cli.py)
            raise StoreUnusable(self._unusable)
        self.generation += 1
        return len(self)

    def _ensure_schema(self) -> bool:
        if self._migrated:
            return True
        if self._unusable is not None:
            return False
        try:
            with self._pool.connection() as conn:
                migrate(conn)
        except psycopg.OperationalError as exc:
            self._failed(exc)
            return False
        except StoreUnusable as exc:  # found after start (the server was out of reach then): no more writes
            log.error("history database: %s; nothing more is written", exc)
            self._unusable = str(exc)
            self._since = self._since or datetime.now(UTC).isoformat()
            return False
        self._migrated = True
        return True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.upkeep.wait()
        self.flush()
        if self._held_rows:
            log.error("history database: %d check(s) not written at close (%s)", self._held_rows, self._error)
        self._pool.close(timeout=5)

    def flush(self) -> None:
        """Every sweep is committed as it is appended; this retries the held ones."""
        with self._write_lock:
            self._drain()

    def storage_status(self) -> dict:
        """Not ok while sweeps cannot be written or reads fail; ok again once either works."""
        error, since = self._unusable or self._error, self._since
        if error is None:
            error, since = self._read_error, self._read_since
        return {
            "ok": error is None,
            "error": error,
            "since": since,
            "unsaved_sweeps": len(self._held),
        }

    def __len__(self) -> int:
        cached = self._count
        if cached is not None and time.monotonic() - cached[0] < LEN_CACHE_S:
            return cached[1]
        rows = self._read("SELECT count(*) FROM checks", [])
        count = rows[0][0] if rows else (cached[1] if cached else 0)
        self._count = (time.monotonic(), count)
        return count

    # -- writing -------------------------------------------------------------------------------
    def append(self, ts: datetime, results: Sequence[ProbeResult]) -> None:
        ts = ts.astimezone(UTC)
        columns = sweep_columns(ts, results)
        if not columns[0]:
            return
        with self._write_lock:
            self._held.append(columns)
            self._held_rows += len(columns[0])
            while self._held_rows > MAX_HELD_ROWS and len(self._held) > 1:
                self._held_rows -= len(self._held.popleft()[0])
                self._given_up += 1
            if self._closed:
                return
            self._drain()
            written = not self._held
        if written:  # folding and retention wait, like the sweeps, while the server is out of reach
            self.upkeep.after_write(ts, lambda: self.drop_expired(datetime.now(UTC)))

    def _drain(self) -> None:
        """Write the held sweeps, oldest first, in batches; stop at the first failure (it is reported)."""
        while self._held and self._ensure_schema():
            sweeps, rows = 0, 0
            while sweeps < len(self._held) and (not rows or rows + len(self._held[sweeps][0]) <= WRITE_BATCH_ROWS):
                rows += len(self._held[sweeps][0])
                sweeps += 1
            batch = join_columns([self._held[i] for i in range(sweeps)])
            try:
                # While the server is known to be gone, a sweep waits less for it (the loop goes on).
                wait = FAILING_WAIT_S if self._error is not None else POOL_WAIT_S
                with self._pool.connection(timeout=wait) as conn, conn.transaction():
                    write_columns(conn, batch)
            except psycopg.OperationalError as exc:  # the server, the network, a timeout: retried
                self._failed(exc)
                return
            except psycopg.Error as exc:  # the data itself: retrying cannot help, so it is given up
                log.error("history database: %d check(s) refused and dropped: %s", rows, exc)
            for _ in range(sweeps):
                self._held_rows -= len(self._held.popleft()[0])
            self._count = None
            if self._error is not None:
                log.warning("history database: writing again (%s was the error)", self._error)
                if self._given_up:
                    log.error("history database: %d held sweep(s) were given up (too many held)", self._given_up)
                self._error = self._since = None
                self._given_up = 0

    def _failed(self, exc: BaseException) -> None:
        text = _describe(exc)
        if self._error is None:
            log.error("history database unreachable: %s; holding sweeps", text)
            self._since = datetime.now(UTC).isoformat()
        self._error = text
        self._failed_at = time.monotonic()

    def drop_expired(self, now: datetime) -> dict[str, int]:
        """Batched deletes: raw rows past raw_retention, minute rollups past theirs, hour past retention.
        The minutes closed by `now` are folded first."""
        plan = {
            "raw": ("checks", "ts", now - self.raw_retention),
            "minute": ("checks_minute", "bucket", now - self.minute_retention),
            "hour": ("checks_hour", "bucket", now - self.retention),
        }
        self.upkeep.fold(minute_of(now))  # raw rows leave only once the rollups hold them
        dropped = self.upkeep.delete_before(plan)
        if dropped["raw"]:
            self.generation += 1
            self._count = None
        return dropped

    # -- reading -------------------------------------------------------------------------------
    def _read(self, sql: str, args: Sequence | Mapping) -> list[tuple]:
        """Rows of a query; none while the server is unreachable (storage_status() says why).

        An empty answer that is no answer moves `generation`: whoever keeps figures from the rows
        (ops/figures.py) has missed some, and starts over from the store once reads work."""
        now = time.monotonic()
        write_down = self._error is not None and now - self._failed_at < READ_RETRY_S
        if write_down or (self._read_error is not None and now - self._read_failed_at < READ_RETRY_S):
            self.generation += 1
            return []
        down = self._error is not None or self._read_error is not None
        try:
            # While the server is known to be gone, a read waits less for it (the page goes on).
            with self._pool.connection(timeout=FAILING_WAIT_S if down else POOL_WAIT_S) as conn:
                rows = conn.execute(sql, args).fetchall()
        except psycopg.OperationalError as exc:
            self._read_failed(exc)
            return []
        if down:
            self._read_ok()
        return rows

    def _fold_mark(self) -> datetime:
        """The fold mark now, or as last read: an older one is a looser bound, never a wrong one."""
        rows = self._read(FOLDED_UNTIL_SQL, [])
        if rows:
            self._mark = max(self._mark, rows[0][0])
        return self._mark

    def _read_failed(self, exc: BaseException) -> None:
        text = _describe(exc)
        if self._read_error is None:
            log.warning("history database: a query failed: %s", text)
            self._read_since = datetime.now(UTC).isoformat()
        self._read_error = text
        self._read_failed_at = time.monotonic()
        self.generation += 1

    def _read_ok(self) -> None:
        """A read worked: the read failure is over, and so is a write failure with nothing held
        (a follower's, or a failed load's: no sweep of ours waits to be written)."""
        if self._read_error is not None:
            log.warning("history database: reading again (%s was the error)", self._read_error)
            self._read_error = self._read_since = None
        if self._error is not None and self._write_lock.acquire(blocking=False):
            try:
                if not self._held:
                    log.warning("history database: reachable again (%s was the error)", self._error)
                    self._error = self._since = None
            finally:
                self._write_lock.release()

    def recent_checks(self, *, service=None, since=None, sweeps=None, per_service=None) -> list[CheckRow]:
        sql, args = q.recent_sql(service, since, sweeps, per_service)
        return [q.check_row(r) for r in self._read(sql, args)]

    def spark_points(self, names: Iterable[str], points: int, since: datetime) -> dict[str, list]:
        wanted = list(dict.fromkeys(names))
        out: dict[str, list] = {name: [] for name in wanted}
        if not wanted or points <= 0:
            return out
        for name, ts, latency, status, error in self._read(q.SPARK_SQL, [wanted, since, points]):
            out[name].append([q.epoch_ms(ts), latency if error is None else None, status, error])
        return out

    def chart_points(self, service: str, window: timedelta, buckets: int, now: datetime) -> list[ChartPoint]:
        start = now - window
        # Time buckets of whole seconds from the epoch, as the embedded store cuts them.
        args = {"service": service, "start": start, "step": max(int(window.total_seconds() / max(buckets, 1)), 1)}
        table = self._source(start, now)
        table = "checks_minute" if table == q.EDGES else table  # a chart's bins are minutes or wider
        if table is None:
            raw = self._read(f"SELECT {q.ROW} FROM checks WHERE service = %s AND ts >= %s ORDER BY ts, idx LIMIT %s",
                             [service, start, buckets + 1])  # fmt: skip
            if len(raw) <= buckets:
                return [_point(q.check_row(r)) for r in raw]
            rows = self._read(q.RAW_CHART_SQL, args)
            return [q.chart_point(r, raw_rank=True) for r in rows]
        rows = self._read(q.rollup_chart_sql(table, self._fold_mark()), {**args, "unit": q.UNITS[table]})
        return [q.chart_point(r, raw_rank=False) for r in rows]

    def _source(self, start: datetime, now: datetime) -> str | None:
        """Where a window from `start` is read: raw rows (None), minutes at the edge with hours inside
        (q.EDGES, while minute rollups reach `start`), or hour rollups."""
        if start >= now - self.memory:
            return None
        return q.EDGES if start >= now - self.minute_retention else "checks_hour"

    def uptime(self, windows: Mapping[str, timedelta], now: datetime, service: str | None = None) -> dict:
        out: dict[str, dict[str, float | None]] = {}
        by_source: dict[str | None, list[str]] = {}
        for label, span in windows.items():
            by_source.setdefault(self._source(now - span, now), []).append(label)
        mark = self._fold_mark() if set(by_source) - {None} else q.EPOCH
        queries = [
            ([label], q.edge_uptime_sql(now - windows[label], service, mark))
            for label in by_source.pop(q.EDGES, [])  # each its own split between minutes and hours
        ]
        for table, labels in by_source.items():
            queries.append((labels, q.uptime_sql(table, [now - windows[label] for label in labels], service, mark)))
        for labels, (sql, args) in queries:
            for name, *pairs in self._read(sql, args):
                figures = out.setdefault(name, {})
                for i, label in enumerate(labels):
                    figures[label] = q.percent(pairs[2 * i + 1], pairs[2 * i])
        return {name: {label: figures.get(label) for label in windows} for name, figures in out.items()}

    def percentiles(self, windows, now, qs=(50, 95), service=None) -> dict[str, dict[str, float | None]]:
        out: dict[str, dict[str, float | None]] = {"*": {}}
        for label, span in windows.items():
            table = self._source(now - span, now)
            only = "AND service = %s" if service is not None else ""
            extra = [service] if service is not None else []
            if table is None:
                sql = q.RAW_PERCENTILE_SQL.format(service=only)
                for name, values in self._read(sql, [[x / 100.0 for x in qs], now - span, *extra]):
                    figures = out.setdefault(name, {})
                    for x, value in zip(qs, values or [None] * len(qs), strict=True):
                        figures[f"p{x}_{label}"] = None if value is None else round(float(value), 1)
                continue
            if table == q.EDGES:
                source, args = q.edge_rollups(now - span, service, self._fold_mark())
                sql = q.counts_sql(source)
            else:
                sql = q.rollup_counts_sql(table, service, self._fold_mark())
                args = [now - span - q.UNITS[table], *extra]
            counts: dict[str, dict[int, int]] = {}
            pooled = counts.setdefault("*", {})
            for name, index, count in self._read(sql, args):
                counts.setdefault(name, {})[index] = count
                pooled[index] = pooled.get(index, 0) + count
            for name, sparse in counts.items():
                figures = out.setdefault(name, {})
                for x in qs:
                    figures[f"p{x}_{label}"] = percentile_from_counts(sparse, x)
        keys = [f"p{x}_{label}" for label in windows for x in qs]
        return {name: {key: figures.get(key) for key in keys} for name, figures in out.items()}

    def csv_rows(self, since: datetime | None = None, service: str | None = None) -> Iterator[CheckRow]:
        """Streamed through a server-side cursor: an export of millions of rows never sits in memory."""
        sql, args = q.recent_sql(service, since, None, None)
        with self._pool.connection() as conn, conn.transaction(), conn.cursor(name="history_export") as cur:
            cur.itersize = 5000
            cur.execute(sql, args)
            for record in cur:
                yield q.check_row(record)

    def rows_between(self, start: datetime, end: datetime) -> list[CheckRow]:
        sql = f"SELECT {q.ROW} FROM checks WHERE ts >= %s AND ts < %s ORDER BY ts, idx"
        return [q.check_row(r) for r in self._read(sql, [start, end])]

    def last_runs(self, names: Iterable[str]) -> dict[str, LastRun]:
        out = {}
        for name, *row, failures, successes, since, error in self._read(q.LAST_RUNS_SQL, [list(dict.fromkeys(names))]):
            out[name] = LastRun(q.check_row(tuple(row)), failures, successes, since.astimezone(UTC), error)
        return out

    def tallies(self, since: datetime, latencies: bool = False) -> dict[str, Tally]:
        sql = q.TALLIES_SQL.format(latencies=q.TALLY_LATENCIES if latencies else "NULL")
        return {
            name: Tally(counted, passed, tuple(values or ()))
            for name, counted, passed, values in self._read(sql, [since])
        }


def _point(row: CheckRow) -> ChartPoint:
    failed = row.error is not None
    return ChartPoint(row.ts, row.answered_ms, row.status, int(failed), 1, row.error)


def _describe(exc: BaseException) -> str:
    """One line for the banner and the log: the server's message without libpq's multi-line detail."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
