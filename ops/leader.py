"""Who probes: one dashboard of several over one PostgreSQL leads, the others follow.

The leader holds a session-level advisory lock on its own connection. PostgreSQL drops the lock the
moment that session ends (a killed process closes its socket; a silent peer is cut by the server's
TCP keepalives, set per session below), and the next follower to ask takes it. The leader beats its
heart every `interval/4`; a heartbeat that fails or is not answered within `deadline_s` (a frozen
server answers nothing, so a watchdog thread times it, not the server) makes it step down at once.
A new leader finishes its take-over (`on_gain`) before `is_leader` turns true, so nothing gated on
it acts half-way. `mc_leader` says who leads (id, since, heartbeat, backend pid) so followers can
name the leader in loop-status and 409s; a heartbeat older than `stale_s` names nobody (stale).

Without PostgreSQL there is nobody to share with: `SoleLeader` always leads (role "single").
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg.conninfo import conninfo_to_dict

log = logging.getLogger(__name__)

LEADER_KEY = 0x6D63_6C64  # "mcld": one fixed advisory lock key for all dashboards of one database
MIN_TICK_S, MAX_TICK_S = 0.1, 2.0
MIN_DEADLINE_S = 1.0  # a statement's budget never below this: a busy CI box must not depose a healthy leader
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
# The same on the server's side of the socket: without them a vanished leader's backend (and its
# lock) lives until the server's OS keepalive default fires (7200 s), and nobody leads meanwhile.
SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=2 -c tcp_user_timeout=9000"
)
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
SELECT l.id, l.since, l.heartbeat, now() - l.heartbeat > make_interval(secs => %s) FROM mc_leader l
JOIN pg_locks k ON k.pid = l.backend_pid AND k.locktype = 'advisory' AND k.granted
 AND k.classid::bigint = (l.key >> 32) AND k.objid::bigint = (l.key & 4294967295) AND k.objsubid = 1
WHERE l.key = %s"""
UPSERT = """
INSERT INTO mc_leader (key, id, since, heartbeat, backend_pid) VALUES (%s, %s, %s, now(), pg_backend_pid())
ON CONFLICT (key) DO UPDATE SET id = EXCLUDED.id, since = EXCLUDED.since, heartbeat = now(),
 backend_pid = EXCLUDED.backend_pid"""

Callback = Callable[[], None]


def connect_args(url: str, statement_timeout_ms: int | None = None) -> dict:
    """psycopg.connect keywords: client keepalives (CONNECT) and the server's, kept with the URL's own options."""
    own = conninfo_to_dict(url).get("options") or ""
    timeout = f" -c statement_timeout={statement_timeout_ms}" if statement_timeout_ms else ""
    return {**CONNECT, "options": f"{own} {SERVER_KEEPALIVES}{timeout}".strip()}


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

    def stale_leader(self) -> None:
        return None


class Leadership:
    """Tries the advisory lock every `tick` seconds on a dedicated connection; holds it while it lives."""

    def __init__(
        self,
        url: str,
        interval_s: float,
        *,
        key: int = LEADER_KEY,
        on_gain: Callback | None = None,
        on_ready: Callback | None = None,
        on_loss: Callback | None = None,
    ) -> None:
        self.url, self.key = url, key
        self.tick = min(MAX_TICK_S, max(MIN_TICK_S, interval_s / 4))
        self.deadline_s = max(MIN_DEADLINE_S, 2 * self.tick)  # a statement's budget (server and watchdog)
        self.stale_s = self.deadline_s + 2 * self.tick  # a heartbeat older than this: the leader is unresponsive
        self.leader_id = process_id()
        # on_gain takes over (is_leader still False), on_ready runs once it is True, on_loss after it ends.
        self.on_gain, self.on_ready = on_gain or (lambda: None), on_ready or (lambda: None)
        self.on_loss = on_loss or (lambda: None)
        self.is_leader = False
        self.since: datetime | None = None
        self._known: dict | None = None  # the leader as last read (a follower's view)
        self._conn: psycopg.Connection | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # one tick at a time (the thread, or a test calling tick_once())
        self._state = threading.Lock()  # is_leader changes (the ticking thread, the watchdog, stop)
        self._beat_began: float | None = None  # monotonic start of the heartbeat in flight

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if not self._threads:
            for target, name in ((self._run, "leadership"), (self._watch, "leadership-watch")):
                self._threads.append(threading.Thread(target=target, name=name, daemon=True))
                self._threads[-1].start()

    def stop(self) -> None:
        """Stop trying; a leader steps down (callbacks run) and its lock goes with its connection.

        Bounded even when the server hangs: a tick stuck in a query keeps its connection (its thread
        closes it when the query returns) but this process stops leading at once."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self.deadline_s + 1.0)
        if self._lock.acquire(timeout=1.0):
            try:
                self._drop("stopping")
            finally:
                self._lock.release()
        else:
            log.warning("leadership: stopping while a query hangs; its connection is closed when it returns")
            self._step_down("stopping")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick_once()
            self._stop.wait(self.tick)
        with self._lock:  # a stop() that timed out left the connection to us
            self._drop("stopping")

    def _watch(self) -> None:
        """The watchdog: a heartbeat not answered in time deposes the leader (a frozen server never answers)."""
        while not self._stop.wait(self.tick / 2):
            began = self._beat_began
            if began is not None and self.is_leader and time.monotonic() - began > self.deadline_s:
                self._step_down(f"heartbeat not answered within {self.deadline_s:.1f} s")

    # -- one tick ------------------------------------------------------------------------------
    def tick_once(self) -> None:
        """Connect if needed; a leader beats its heart, a follower tries the lock and reads who leads."""
        with self._lock:
            try:
                conn = self._connect()
                if self.is_leader:
                    self._beat(conn)
                elif self._stop.is_set():
                    return
                elif conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
                    self._gain(conn)
                else:
                    self._known = self._who_leads(conn)
            except psycopg.Error as exc:
                self._drop(f"{type(exc).__name__}: {str(exc).strip()[:200]}")

    def _connect(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            args = connect_args(self.url, int(self.deadline_s * 1000))
            self._conn = psycopg.connect(self.url, application_name=f"mc-leader {self.leader_id}"[:63], **args)
            with self._conn.transaction():  # one creator at a time: concurrent CREATEs collide in pg_type
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self.key + 1,))
                self._conn.execute(SCHEMA)
        return self._conn

    def _beat(self, conn: psycopg.Connection) -> None:
        self._beat_began = time.monotonic()
        try:
            conn.execute("UPDATE mc_leader SET heartbeat = now() WHERE key = %s", (self.key,))
        finally:
            self._beat_began = None
        if not self.is_leader:  # the watchdog deposed us while it hung: this session is not trusted again
            self._drop("heartbeat answered too late")

    def _gain(self, conn: psycopg.Connection) -> None:
        since = datetime.now(UTC)
        conn.execute(UPSERT, (self.key, self.leader_id, since))
        self.since, self._known = since, {"id": self.leader_id, "since": since.isoformat()}
        log.info("leadership gained: %s takes over", self.leader_id)
        self._call(self.on_gain, "gain")  # before is_leader: no sweep, announcement or attempt starts half-way
        if self._stop.is_set():
            return  # stopped meanwhile: never lead (the thread's exit closes the connection and its lock)
        conn.execute("UPDATE mc_leader SET heartbeat = now() WHERE key = %s", (self.key,))
        with self._state:
            self.is_leader = True
        log.info("leadership: %s probes and recovers", self.leader_id)
        self._call(self.on_ready, "ready")

    def _step_down(self, why: str) -> bool:
        """Stop leading (once, whoever notices first); True if this call ended the leadership."""
        with self._state:
            was_leader, self.is_leader = self.is_leader, False
        if was_leader:
            log.warning("leadership lost (%s): probing stops", why)
            self._call(self.on_loss, "loss")
        return was_leader

    def _drop(self, why: str) -> None:
        """The connection is gone or going: a leader stops first, then the socket is closed."""
        was_leader = self._step_down(why)
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
        row = conn.execute(WHO_LEADS, (self.stale_s, self.key)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "since": row[1].isoformat(), "heartbeat": row[2].isoformat(), "stale": bool(row[3])}

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
        """{"id", "since", "is_me"} of the leader as last seen, or None while nobody is known to lead
        (none holds the lock, or its holder's heartbeat is stale: see stale_leader())."""
        known = self._known
        if self.is_leader:
            return {"id": self.leader_id, "since": self.since.isoformat() if self.since else None, "is_me": True}
        if known is None or known.get("stale"):
            return None
        return {"id": known["id"], "since": known["since"], "is_me": False}

    def stale_leader(self) -> dict | None:
        """{"id", "heartbeat"} of a lock holder whose heartbeat stopped (hung or cut off), else None."""
        known = self._known
        if self.is_leader or known is None or not known.get("stale"):
            return None
        return {"id": known["id"], "heartbeat": known["heartbeat"]}
