"""Live news from the leader to the followers over PostgreSQL LISTEN/NOTIFY (channel `mc_live`).

The leader forwards what its event bus carries: each `result` message as it is (one service view,
a few hundred bytes), each `sweep` message split into one `view` notification per changed view and
a summary without views (a NOTIFY payload must stay under 8000 bytes), `recovery` events as they
are. Every notification is `{"from": leader id, "n": sequence, "m": message}`.

A follower feeds what it receives into its own LiveViews, so its WebSocket clients and polls get
the same messages the leader's get. It resyncs from the shared history (monitor.restore) whenever
it may have missed something: on (re)connecting, on a gap in the sequence, on a new leader's first
notification, and when told to (a message too large to send).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime

import psycopg

from ops.events import EventBus, encode
from ops.leader import connect_args

log = logging.getLogger(__name__)

CHANNEL = "mc_live"
MAX_PAYLOAD = 7900  # PostgreSQL's limit is 8000 bytes including the channel name
SNAPSHOT_KEYS = ("time", "sweep", "system", "storage")
RETRY_S = 0.5


class LiveRelay:
    """Publisher (leader only) and listener (followers only) on two dedicated connections."""

    def __init__(self, url: str, monitor, bus: EventBus, leadership) -> None:
        self.url, self.monitor, self.bus, self.leadership = url, monitor, bus, leadership
        self.me = leadership.leader_id
        self._order = [s.name for s in monitor.settings.services]
        self._views: dict[str, dict] = {}  # the leader's last view of each service (a follower's copy)
        self._seq = 0
        self._last: tuple[str, int] | None = None  # (leader id, n) last received
        self._subscription = bus.subscribe(maxlen=10_000)  # must not lose the leader's own news
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.received = self.sent = self.resyncs = 0

    def start(self) -> None:
        for target, name in ((self._publish_loop, "relay-out"), (self._listen_loop, "relay-in")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._subscription.close()
        for thread in self._threads:
            thread.join(5)

    # -- the leader's side ---------------------------------------------------------------------
    def _publish_loop(self) -> None:
        conn = None
        while not self._stop.is_set():
            message = self._subscription.get(timeout=0.5)
            if message is None:
                return
            if not message or not self.leadership.is_leader:
                continue  # a follower's bus carries what it relays: never sent back
            payloads = [self._envelope(text) for text in self.split(message)]
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, **connect_args(self.url))
                for payload in payloads:
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    self.sent += 1
            except psycopg.Error as exc:  # lost: the followers see the gap in "n" and resync
                log.warning("live relay: notification not sent (%s)", exc)
                conn = self._close(conn)
        self._close(conn)

    def _envelope(self, text: str) -> str:
        self._seq += 1
        head = f'{{"from":{encode(self.me)},"n":{self._seq},"m":'
        payload = f"{head}{text}}}"
        return payload if len(payload.encode()) <= MAX_PAYLOAD else head + '{"type":"resync"}}'  # too big: re-read

    @staticmethod
    def split(message: str) -> list[str]:
        """One bus message as notification bodies: a sweep becomes its changed views, then a summary."""
        if not message.startswith('{"type":"sweep"'):
            return [message]
        sweep = json.loads(message)
        views = sweep.pop("services", [])
        return [*(encode({"type": "view", "service": view}) for view in views), encode(sweep)]

    # -- a follower's side ---------------------------------------------------------------------
    def _listen_loop(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, **connect_args(self.url)) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._resync("listening (again)")  # whatever came before LISTEN is in the history
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._apply(note.payload)
            except psycopg.Error as exc:
                log.warning("live relay: listener connection lost (%s); reconnecting", exc)
                self._stop.wait(RETRY_S)
            except Exception:  # noqa: BLE001 - a dead listener would show old statuses as live forever
                log.exception("live relay: listener failed; reconnecting")
                self._stop.wait(RETRY_S)

    def _apply(self, payload: str) -> None:
        """receive(), but a notification it cannot apply costs a resync, never the listener."""
        try:
            self.receive(payload)
        except Exception:  # noqa: BLE001 - e.g. a view without a name: what we show may be off, so re-read
            log.exception("live relay: notification not applied")
            self._resync("a notification could not be applied")

    def receive(self, payload: str) -> None:
        """One notification: into the live views (results, sweeps) or onto the bus (the rest)."""
        try:
            note = json.loads(payload)
            sender, n, message = note["from"], note["n"], note["m"]
        except (ValueError, KeyError, TypeError):
            log.warning("live relay: unreadable notification ignored")
            return
        if sender == self.me or self.leadership.is_leader:
            return
        self.received += 1
        last, self._last = self._last, (sender, n)
        if last is None or last != (sender, n - 1):
            self._resync("a new leader" if last is None or last[0] != sender else "notifications missed")
        kind = message.get("type")
        if kind == "view":
            self._views[message["service"]["name"]] = message["service"]
        elif kind == "result":
            self._views[message["service"]["name"]] = message["service"]
            self.monitor.live.publish_result(message["service"])
        elif kind == "sweep":
            self._sweep(message)
        elif kind == "resync":
            self._resync("the leader asked")
        else:
            self.bus.publish(message)

    def _sweep(self, message: dict) -> None:
        views = [self._views[name] for name in self._order if name in self._views]
        if len(views) < len(self._order):
            self._resync("a sweep with views never received")
            return
        time = datetime.fromisoformat(message["time"])
        self.monitor.live.publish_sweep(time, views, message["system"], message["sweep"], message["storage"])

    def _resync(self, why: str) -> None:
        """Start again from the shared history: statuses and figures as the leader stored them."""
        self.resyncs += 1
        log.info("live relay: re-reading the latest state from the shared history (%s)", why)
        try:
            self.monitor.restore()
        except Exception:  # noqa: BLE001 - a store hiccup must not end the listener; the next gap retries
            log.exception("live relay: resync failed")
            return
        self._views = {view["name"]: view for view in self.monitor.snapshot().get("services", [])}

    @staticmethod
    def _close(conn):
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass
        return None
