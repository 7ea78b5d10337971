"""The recovery log in PostgreSQL: one row per entry id holding its latest state as JSONB.

The same API as ops/recovery_log.py's RecoveryLog, so the engine cannot tell them apart; with it,
dashboards sharing a database share one log (a new leader reads what the dead one started, and
marks it interrupted with update()). An entry that cannot be written (server gone) is held in
memory, shown by recent(), and written at the next call that reaches the server.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime

import psycopg
from psycopg_pool import ConnectionPool

from ops.history.postgres_schema import migrate
from ops.history.protocol import StoreUnusable

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 5000
MAX_HELD = 5000  # entries kept for a server that is gone (the oldest are given up first)
RETRY_S = 5.0  # while the server is unreachable, calls do not wait for it more often than this

UPSERT = """
INSERT INTO {table} (key, seq, service, entry)
VALUES (coalesce(%(key)s, '#' || nextval('{table}_seq')), nextval('{table}_seq'), %(service)s, %(entry)s::jsonb)
ON CONFLICT (key) DO UPDATE SET seq = excluded.seq, service = excluded.service, entry = excluded.entry"""
TABLES = ("recovery_log", "notification_log")  # same shape (migrations 0002, 0003)


class PostgresRecoveryLog:
    """load / append / update / recent / clear / storage_status / close, over the `recovery_log` table.

    With table="notification_log" it is the notification delivery log; `keep` bounds the rows kept."""

    def __init__(
        self, url: str, table: str = "recovery_log", keep: int | None = None, pool: ConnectionPool | None = None
    ) -> None:
        if table not in TABLES:
            raise ValueError(f"no log table {table!r}")
        self.table, self.keep, self._upsert = table, keep, UPSERT.format(table=table)
        self._appended = 0
        # One small pool serves the recovery log, the recovery state and the delivery log of a
        # dashboard (open_pool): a database's connections are few (max_connections), dashboards many.
        self._owns_pool = pool is None
        self._pool = open_pool(url) if pool is None else pool
        self._held: deque[dict] = deque(maxlen=MAX_HELD)
        self._lock = threading.Lock()
        self._ready = self._opened = False
        self._error: str | None = None
        self._since: str | None = None
        self._failed_at = 0.0

    def load(self) -> int:
        """Open the pool and migrate; returns the entries stored (0 while the server is unreachable)."""
        if not self._opened:
            self._pool.open(wait=False)
            self._opened = True
        rows = self._run(lambda conn: conn.execute(f"SELECT count(*) FROM {self.table}").fetchone())
        return rows[0] if rows else 0

    def _run(self, work):
        """work(conn) after the migrations and the held entries; None when the server cannot be reached."""
        if self._error is not None and time.monotonic() - self._failed_at < RETRY_S:
            return None
        try:
            with self._pool.connection() as conn:
                if not self._ready:
                    migrate(conn)
                    self._ready = True
                self._write_held(conn)
                result = work(conn)
        except (psycopg.OperationalError, StoreUnusable) as exc:  # unusable: a newer version migrated it
            self._failed(exc)
            return None
        if self._error is not None:
            log.warning("recovery log database: reachable again (%s was the error)", self._error)
            self._error = self._since = None
        return result

    def _write_held(self, conn: psycopg.Connection) -> None:
        with self._lock:
            while self._held:
                try:
                    conn.execute(self._upsert, _params(self._held[0]))
                except psycopg.OperationalError:
                    raise
                except psycopg.Error as exc:  # the entry itself is refused: retrying cannot help
                    log.error("recovery log entry %s refused: %s", self._held[0].get("id"), exc)
                self._held.popleft()

    def _failed(self, exc: BaseException) -> None:
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if self._error is None:
            log.error("recovery log database unreachable: %s; holding entries", text)
            self._since = datetime.now(UTC).isoformat()
        self._error = text
        self._failed_at = time.monotonic()

    def append(self, entry: dict) -> None:
        """Store the entry (the latest state of its id). Never raises: held while the server is gone."""
        try:
            _params(entry)
        except (TypeError, ValueError, RecursionError) as exc:
            log.error("recovery log entry %s not written: %s", entry.get("id"), exc)
            return
        with self._lock:
            self._held.append(entry)
            self._appended += 1
            trim = self.keep is not None and self._appended % self.keep == 0
        self._run(self._trim if trim else lambda conn: None)

    def _trim(self, conn: psycopg.Connection) -> None:
        """Keep the newest `keep` entries (every `keep` appends, so the table holds at most about twice that)."""
        conn.execute(
            f"DELETE FROM {self.table} WHERE seq <= (SELECT seq FROM {self.table} ORDER BY seq DESC OFFSET %s LIMIT 1)",
            (self.keep,),
        )

    def update(self, entry: dict) -> None:
        """Record a later state of an entry (same id): it replaces the earlier one."""
        self.append(entry)

    def recent(self, limit: int = 50, service: str | None = None) -> list[dict]:
        """Newest first (by latest update), one per entry id; held entries lead while the server is gone."""
        entries = self.read_recent(limit, service)
        return self._merged([], limit, service) if entries is None else entries

    def read_recent(self, limit: int = 50, service: str | None = None) -> list[dict] | None:
        """recent(), or None when the database could not be read (a counter must not take the
        held entries alone for the whole log)."""
        where, args = ("WHERE service = %s", [service]) if service is not None else ("", [])
        sql = f"SELECT entry FROM {self.table} {where} ORDER BY seq DESC LIMIT %s"
        rows = self._run(lambda conn: conn.execute(sql, [*args, limit]).fetchall())
        return None if rows is None else self._merged(rows, limit, service)

    def _merged(self, rows: list, limit: int, service: str | None) -> list[dict]:
        """The held entries (newest first), then the stored ones, one per id."""
        with self._lock:
            held = [e for e in reversed(self._held) if service is None or e.get("service") == service]
        seen: set = set()
        out = []
        for entry in [*held, *(r[0] for r in rows)]:
            key = entry.get("id")
            if key is not None and key in seen:
                continue
            seen.add(key)
            out.append(entry)
        return out[:limit]

    def clear(self) -> int:
        """Forget every entry (for every dashboard sharing the database); returns how many there were."""
        with self._lock:
            held = len(self._held)
            self._held.clear()
        deleted = self._run(lambda conn: conn.execute(f"DELETE FROM {self.table}").rowcount)
        return held + (deleted or 0)

    def storage_status(self) -> dict:
        return {"ok": self._error is None, "error": self._error, "since": self._since}

    @property
    def pool(self) -> ConnectionPool:
        return self._pool

    def close(self) -> None:
        if self._held:
            self._run(lambda conn: None)
        if self._opened and self._owns_pool:
            self._pool.close(timeout=5)
        self._opened = False


def open_pool(url: str) -> ConnectionPool:
    """A small pool (not opened yet) for the logs and the recovery state: one connection, two at most."""
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC"
    return ConnectionPool(
        url,
        min_size=1,
        max_size=2,
        open=False,
        timeout=3.0,
        check=ConnectionPool.check_connection,
        kwargs={"autocommit": True, "connect_timeout": 3, "options": options},
        name="recovery-and-notifications",
    )


def _params(entry: dict) -> dict:
    # JSONB holds no NUL character: a command's output tail with one loses it rather than the entry.
    text = json.dumps(entry, default=str).replace("\\u0000", "")
    key = entry.get("id")
    return {
        "key": None if key is None else json.dumps(key, default=str),
        "service": entry.get("service") if isinstance(entry.get("service"), str) else None,
        "entry": text,
    }


class PostgresDeliveryLog(PostgresRecoveryLog):
    """The notification delivery log, and the incidents the leader announced (`notify_incidents`).

    A new leader reads the open incidents here and adopts them, so one outage is announced once
    across a leader change; the leader that closes one (recovered) deletes it."""

    def __init__(self, url: str, keep: int | None = None, pool: ConnectionPool | None = None) -> None:
        super().__init__(url, table="notification_log", keep=keep, pool=pool)

    def incident_opened(self, service: str, incident_id: str, since: datetime, reason: str) -> None:
        sql = (
            "INSERT INTO notify_incidents (service, id, since, reason) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (service) DO UPDATE SET id = excluded.id, since = excluded.since,"
            " reason = excluded.reason, reminders = 0, opened_at = now()"
        )
        self._run(lambda conn: conn.execute(sql, (service, incident_id, since, reason[:2000])))

    def incident_reminded(self, service: str, incident_id: str, reminders: int) -> None:
        sql = "UPDATE notify_incidents SET reminders = %s WHERE service = %s AND id = %s"
        self._run(lambda conn: conn.execute(sql, (reminders, service, incident_id)))

    def incident_closed(self, service: str, incident_id: str) -> None:
        sql = "DELETE FROM notify_incidents WHERE service = %s AND id = %s"
        self._run(lambda conn: conn.execute(sql, (service, incident_id)))

    def open_incidents(self) -> list[dict] | None:
        """[{service, id, since, reason, reminders}] announced and not closed; None if unreachable."""
        sql = "SELECT service, id, since, reason, reminders FROM notify_incidents ORDER BY since"
        rows = self._run(lambda conn: conn.execute(sql).fetchall())
        keys = ("service", "id", "since", "reason", "reminders")
        return None if rows is None else [dict(zip(keys, row, strict=True)) for row in rows]
