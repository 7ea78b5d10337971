"""Recovery policy state in PostgreSQL, shared by every dashboard of one database (migration 0003).

One row per service ('' for the global switches). Any dashboard writes `settings` (maintenance,
auto, a reset); only the leader writes `counters` (attempts, backoff, circuit). Every write takes a
new `version` from one sequence (taken under the row lock); a reader reads every row (one per
service) and applies those whose version is not the one it last saw: versions do not commit in
order, so "everything above the highest seen" could skip one.
Calls never raise for a lost server: reads return None, writes False, and the caller decides.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from ops.history.postgres_schema import migrate
from ops.history.protocol import StoreUnusable

log = logging.getLogger(__name__)

GLOBAL = ""  # the row of the switches that apply to every service

ROWS = """SELECT service, version, settings, counters FROM recovery_state ORDER BY service"""
# settings || changes; a reset also clears the counters (not the attempt in flight: it still runs)
# and bumps `resets` (which refuses stale counter writes). nextval in DO UPDATE runs under the row
# lock, so one row's versions grow in the order its writes commit.
SET = """
INSERT INTO recovery_state AS r (service, version, settings, updated_by)
VALUES (%(service)s, nextval('recovery_state_seq'), %(changes)s || jsonb_build_object('resets', %(reset)s::int), %(by)s)
ON CONFLICT (service) DO UPDATE SET
    version = nextval('recovery_state_seq'), updated_at = now(), updated_by = excluded.updated_by,
    settings = r.settings || %(changes)s || jsonb_build_object(
        'resets', coalesce((r.settings->>'resets')::int, 0) + %(reset)s::int),
    counters = CASE WHEN %(reset)s::int > 0
        THEN jsonb_strip_nulls(jsonb_build_object(
            'running_id', r.counters->'running_id', 'running_until', r.counters->'running_until'))
        ELSE r.counters END"""
COUNTERS = """
INSERT INTO recovery_state AS r (service, version, counters, updated_by)
VALUES (%(service)s, nextval('recovery_state_seq'), %(counters)s, %(by)s)
ON CONFLICT (service) DO UPDATE SET
    version = nextval('recovery_state_seq'), updated_at = now(), updated_by = excluded.updated_by,
    counters = excluded.counters
WHERE coalesce((r.settings->>'resets')::int, 0) = %(resets)s"""


class PostgresRecoveryState:
    """rows / set_settings / write_counters over the `recovery_state` table."""

    def __init__(self, pool: ConnectionPool, who: str = "") -> None:
        self.who = who  # the writing dashboard (its leader id), for whoever reads the table by hand
        self._pool = pool  # the recovery log's (ops/history/postgres_recovery_log.py: open_pool); not ours to close
        self._open_lock = threading.Lock()
        self._opened = self._ready = False
        self.error: str | None = None

    def _run(self, work):
        """work(conn) after the migrations; None when the server cannot be reached (logged once)."""
        with self._open_lock:
            if not self._opened:
                self._pool.open(wait=False)
                self._opened = True
        try:
            with self._pool.connection() as conn:
                if not self._ready:
                    migrate(conn)
                    self._ready = True
                result = work(conn)
        except (psycopg.Error, StoreUnusable) as exc:  # unusable: a newer version migrated the database
            text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            if self.error is None:
                log.error("shared recovery state: %s", text)
            self.error = text
            return None
        if self.error is not None:
            log.warning("shared recovery state: reachable again")
            self.error = None
        return result

    def rows(self) -> list[tuple[str, int, dict, dict]] | None:
        """Every row as [(service, version, settings, counters)]; None if unreachable."""
        return self._run(lambda conn: conn.execute(ROWS).fetchall())

    def set_settings(self, service: str, changes: dict, reset: bool = False) -> bool:
        """Merge `changes` into the row's settings (and reset its counters); False if not stored."""
        params = {"service": service, "changes": Jsonb(changes), "reset": int(reset), "by": self.who}
        return self._run(lambda conn: conn.execute(SET, params).rowcount) == 1

    def write_counters(self, service: str, counters: dict, resets: int) -> bool | None:
        """The leader's counters; False when a reset it has not seen refuses them, None if unreachable."""
        params = {"service": service, "counters": Jsonb(counters), "resets": resets, "by": self.who}
        rows = self._run(lambda conn: conn.execute(COUNTERS, params).rowcount)
        return None if rows is None else rows == 1

    def close(self) -> None:
        """Nothing to do: the pool is the recovery log's."""
