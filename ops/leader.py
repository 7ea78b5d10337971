"""Who probes: one dashboard of several over one PostgreSQL leads, the others follow.

The leader holds a session-level advisory lock on its own connection. PostgreSQL drops the lock the
moment that session ends (a killed process closes its socket; a silent peer is cut by TCP
keepalives), and the next follower to ask takes it. The leader notices a lost connection on its
next heartbeat (every `interval/4`) and stops probing before anything else. `mc_leader` says who
leads (id, since, heartbeat, backend pid) so followers can name the leader in loop-status and 409s.

Without PostgreSQL there is nobody to share with: `SoleLeader` always leads (role "single").
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

log = logging.getLogger(__name__)

LEADER_KEY = 0x6D63_6C64  # "mcld": one fixed advisory lock key for all dashboards of one database
MIN_TICK_S, MAX_TICK_S = 0.1, 2.0
CONNECT = {
    "autocommit": True,
    "connect_timeout": 3,
    # A peer that vanishes without closing its socket is cut within ~idle + interval * count seconds.
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 9000,  # ms: unacknowledged writes fail instead of hanging a heartbeat
}
SCHEMA = """
CREATE TABLE IF NOT EXISTS mc_leader (
    key bigint PRIMARY KEY,
    id text NOT NULL,
    since timestamptz NOT NULL,
    heartbeat timestamptz NOT NULL,
    backend_pid integer NOT NULL
)"""
# The row counts only while its backend still holds the lock: a killed leader's row is history.
WHO_LEADS = """
SELECT l.id, l.since, l.heartbeat FROM mc_leader l
JOIN pg_locks k ON k.pid = l.backend_pid AND k.locktype = 'advisory' AND k.granted
 AND k.classid::bigint = (l.key >> 32) AND k.objid::bigint = (l.key & 4294967295) AND k.objsubid = 1
WHERE l.key = %s"""
UPSERT = """
INSERT INTO mc_leader (key, id, since, heartbeat, backend_pid) VALUES (%s, %s, %s, now(), pg_backend_pid())
ON CONFLICT (key) DO UPDATE SET id = EXCLUDED.id, since = EXCLUDED.since, heartbeat = now(),
 backend_pid = EXCLUDED.backend_pid"""

Callback = Callable[[], None]


def process_id() -> str:
    """hostname:pid plus a start id, so a restarted process with a reused pid is someone else."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SoleLeader:
    """The embedded default: nobody to share with, so this process always leads."""

    def __init__(self) -> None:
        self.leader_id = process_id()
        self.since = datetime.now(UTC)
        self.is_leader = True

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def role(self) -> str:
        return "single"

    def leader(self) -> dict:
        return {"id": self.leader_id, "since": self.since.isoformat(), "is_me": True}


class Leadership:
    """Tries the advisory lock every `tick` seconds on a dedicated connection; holds it while it lives."""

    def __init__(
        self,
        url: str,
        interval_s: float,
        *,
        key: int = LEADER_KEY,
        on_gain: Callback | None = None,
        on_loss: Callback | None = None,
    ) -> None:
        self.url, self.key = url, key
        self.tick = min(MAX_TICK_S, max(MIN_TICK_S, interval_s / 4))
        self.leader_id = process_id()
        self.on_gain, self.on_loss = on_gain or (lambda: None), on_loss or (lambda: None)
        self.is_leader = False
        self.since: datetime | None = None
        self._known: dict | None = None  # the leader as last read (a follower's view)
        self._conn: psycopg.Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one tick at a time (the thread, or a test calling tick())

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop trying; a leader steps down (callbacks run) and its lock goes with its connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            self._drop("stopping")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick_once()
            self._stop.wait(self.tick)

    # -- one tick ------------------------------------------------------------------------------
    def tick_once(self) -> None:
        """Connect if needed; a leader beats its heart, a follower tries the lock and reads who leads."""
        with self._lock:
            try:
                conn = self._connect()
                if self.is_leader:
                    conn.execute("UPDATE mc_leader SET heartbeat = now() WHERE key = %s", (self.key,))
                elif conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
                    self._gain(conn)
                else:
                    self._known = self._who_leads(conn)
            except psycopg.Error as exc:
                self._drop(f"{type(exc).__name__}: {str(exc).strip()[:200]}")

    def _connect(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, application_name=f"mc-leader {self.leader_id}"[:63], **CONNECT)
            with self._conn.transaction():  # one creator at a time: concurrent CREATEs collide in pg_type
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self.key + 1,))
                self._conn.execute(SCHEMA)
        return self._conn

    def _gain(self, conn: psycopg.Connection) -> None:
        self.since = datetime.now(UTC)
        conn.execute(UPSERT, (self.key, self.leader_id, self.since))
        self.is_leader = True
        self._known = {"id": self.leader_id, "since": self.since.isoformat()}
        log.info("leadership gained: %s probes and recovers", self.leader_id)
        self._call(self.on_gain, "gain")

    def _drop(self, why: str) -> None:
        """The connection is gone or going: a leader stops first, then the socket is closed."""
        was_leader, self.is_leader = self.is_leader, False
        if was_leader:
            log.warning("leadership lost (%s): probing stops", why)
            self._call(self.on_loss, "loss")
        self._known = None
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - a dead socket may fail to close; it is gone either way
                pass
            self._conn = None
        if not was_leader and why != "stopping":
            log.info("leadership: no connection to PostgreSQL (%s); retrying", why)

    def _who_leads(self, conn: psycopg.Connection) -> dict | None:
        row = conn.execute(WHO_LEADS, (self.key,)).fetchone()
        return None if row is None else {"id": row[0], "since": row[1].isoformat(), "heartbeat": row[2].isoformat()}

    @staticmethod
    def _call(callback: Callback, what: str) -> None:
        try:
            callback()
        except Exception:  # noqa: BLE001 - a callback bug must not wedge the election
            log.exception("leadership %s callback failed", what)

    # -- reading -------------------------------------------------------------------------------
    def role(self) -> str:
        return "leader" if self.is_leader else "follower"

    def leader(self) -> dict | None:
        """{"id", "since", "is_me"} of the leader as last seen, or None while nobody is known to lead."""
        known = self._known
        if self.is_leader:
            return {"id": self.leader_id, "since": self.since.isoformat() if self.since else None, "is_me": True}
        if known is None:
            return None
        return {"id": known["id"], "since": known["since"], "is_me": False}
