"""The notifier: monitor results and bus news in, one message per incident out, through Apprise.

Threads: `on_result` runs on the monitor's thread and only appends to the inbox; a pump thread
copies snapshots (the end of a sweep, CPU/memory, storage) and recovery entries from the event bus
into the same inbox, after the results of their sweep; one events thread turns the inbox into
incidents and messages; each target has its own delivery worker (ops/notify/delivery.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings
from ops.events import CLOSED, EventBus
from ops.notify import messages as msg
from ops.notify.delivery import (
    DROPPED,
    GAVE_UP,
    QUEUED,
    QUIET,
    SENT,
    AppriseSender,
    Delivery,
    MaskFilter,
    TargetQueue,
)
from ops.notify.delivery_log import DeliveryLog
from ops.notify.incidents import IncidentBook
from ops.notify.messages import Event
from ops.notify.routing import route

log = logging.getLogger(__name__)

INBOX_MAX = 10_000
FINAL = (SENT, GAVE_UP, DROPPED, QUIET)
BUS_QUEUE = 4096
MAINTENANCE = "maintenance"


class UnknownTarget(KeyError):
    """No target of that name is configured."""


class Notifier:
    """Incidents, routing and delivery for one core; inactive (no threads) without targets."""

    def __init__(
        self, settings: Settings, bus: EventBus, data_dir: str | Path, clock=time.monotonic, delivery_log=None
    ) -> None:
        self.config = config = settings.notifications
        self.bus, self.clock = bus, clock
        self._tags = {s.name: s.tags for s in settings.services}
        # The file, or PostgreSQL's shared table (ops/history/open.py): every dashboard's page shows the same.
        keep = config.delivery.log_entries
        self.log = delivery_log or DeliveryLog(Path(data_dir) / "notifications_log.jsonl", keep=keep)
        # The leader gate (ops/leader.py): only the leader announces; a follower's bus news is the leader's.
        self.leading = lambda: True
        self.book = IncidentBook(config.reminders, clock)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.active = config.enabled and bool(config.targets)
        senders = {
            name: AppriseSender(t.url(), config.delivery.timeout_s, t.min_interval_s)
            for name, t in config.targets.items()
        }
        self._mask = MaskFilter(set().union(*(s.secrets for s in senders.values())))
        self.kinds = {name: t.url().split("://", 1)[0] for name, t in config.targets.items()}  # "json", "mailto"
        self.queues = {
            name: TargetQueue(name, sender, config.delivery, self._outcome, clock) for name, sender in senders.items()
        }
        self._inbox: deque[tuple] = deque()
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._pending: list[Event] = []  # downs of the current sweep, waiting to be grouped
        self._pending_until = 0.0
        self._threads: list[threading.Thread] = []
        self._subscription = None
        self._counts_lock = threading.Lock()

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.log.load()
        if not self.active:
            return
        self._mask.install()
        self._subscription = self.bus.subscribe(maxlen=BUS_QUEUE)
        for target, runner in (("notify-events", self._run), ("notify-pump", self._pump)):
            self._threads.append(threading.Thread(target=runner, name=target, daemon=True))
        for thread in self._threads:
            thread.start()
        for queue in self.queues.values():
            queue.start()

    def stop(self) -> None:
        """Stop the threads; messages still waiting are lost with the process (said in the log)."""
        self._stop.set()
        if self._subscription is not None:
            self._subscription.close()
        with self._ready:
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(1.0)
        if self.active:
            for name, queue in self.queues.items():
                waiting = queue.stop()
                if waiting:
                    log.warning("notifications to %s: %d message(s) not sent before stopping", name, waiting)
            self._mask.remove()
        self.log.close()

    # -- feeds: never block --------------------------------------------------------------------
    def on_result(self, name: str, state, result) -> None:
        """Monitor result listener (the monitor's thread): an append, nothing more."""
        if self.active:
            reason = result.error or state.last_error or "check failed"
            maintenance = result.status == MAINTENANCE
            self._put(("result", name, state.status, maintenance, state.last_change, reason, result.ts))

    def _put(self, item: tuple) -> None:
        with self._ready:
            if len(self._inbox) >= INBOX_MAX:
                self._inbox.popleft()
                log.warning("notifications: inbox full (%d); the oldest news was dropped", INBOX_MAX)
            self._inbox.append(item)
            self._ready.notify()

    def _pump(self) -> None:
        """Bus -> inbox: snapshots and recovery entries (results come from on_result, never lost)."""
        while not self._stop.is_set():
            text = self._subscription.get(timeout=1.0)
            if text is CLOSED:
                return
            if text.startswith(('{"type":"sweep"', '{"type":"snapshot"', '{"type":"recovery"')):
                try:
                    self._put(("bus", json.loads(text)))
                except ValueError:
                    log.exception("notifications: unreadable bus message")

    def take_over(self) -> None:
        """Leadership gained: adopt the open incidents the shared log holds (on the events thread)."""
        if self.active:
            self._put(("adopt",))

    # -- the events thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._take()
            try:
                if item is not None and item[0] == "adopt":
                    self._adopt()  # queued during a take-over, before this process leads
                    continue
                if not self.leading():
                    self._drop_pending()  # a follower announces nothing: the leader does, once
                    continue
                if item is not None:
                    self._handle(item)
                if self._pending and self.clock() >= self._pending_until:
                    self._flush_downs()
                reminders = self.book.due_reminders(datetime.now(UTC))
                for event in reminders:
                    self.log.incident_reminded(event.service, event.incident, event.reminder)
                if reminders:
                    self._flush_downs()
                    self._send_grouped(reminders)
            except Exception:  # noqa: BLE001 - one bad message must not end notifications
                log.exception("notifications: cannot handle %s", item[0] if item else "a reminder")

    def _take(self) -> tuple | None:
        with self._ready:
            if not self._inbox:
                wakes = [t for t in (self.book.next_due(), self._pending and self._pending_until) if t]
                timeout = max(0.0, min(wakes) - self.clock()) if wakes else 1.0
                self._ready.wait(min(timeout, 1.0))
            return self._inbox.popleft() if self._inbox else None

    def _adopt(self) -> None:
        """Leadership gained: the incidents the shared log says are open become ours (announced, not again)."""
        self._drop_pending()  # downs of an earlier leadership: never recorded, so the new book decides
        records = self.log.open_incidents()
        if records is not None:
            self.book.adopt(records)
            log.info("notifications: %d open incident(s) adopted from the shared log", len(records))

    def _drop_pending(self) -> None:
        """Not leading (any more): the downs still waiting to be grouped are not ours to send.

        Their incidents were never written to the shared log (that happens when a down is queued), so
        the leader, which does not adopt them, opens and announces them itself: announced once, by it."""
        if not self._pending:
            return
        unsent, self._pending = self._pending, []
        for event in unsent:
            if event.service is not None and getattr(self.book.open.get(event.service), "id", None) == event.incident:
                del self.book.open[event.service]
        log.info("notifications: %d down(s) not sent: leadership ended; the leader announces them", len(unsent))

    def _handle(self, item: tuple) -> None:
        if item[0] == "result":
            _, name, status, maintenance, since, reason, ts = item
            before = self.book.open.get(name)
            events = self.book.observe(name, status, maintenance, since, reason, ts, self._tags.get(name, ()))
            if before is not None and before is not self.book.open.get(name) and self._is_pending(before.id):
                self._flush_downs()  # its down goes out (and into the shared log) before its close does
            self._ledger(name, before, self.book.open.get(name))
            for event in events:
                if event.kind == "down":
                    if not self._pending:
                        self._pending_until = self.clock() + self.config.group_wait_s
                    self._pending.append(event)
                else:
                    self._send_all([event])
            return
        news = item[1]
        now = datetime.now(UTC)
        if news.get("type") in ("sweep", "snapshot"):  # a sweep's end (a delta) or a full snapshot
            self._flush_downs()  # the sweep is over: every down of it is in
            self._send_all(self.book.host_state(news.get("system") or {}, news.get("storage") or {}, now))
        elif news.get("type") == "recovery" and isinstance(news.get("entry"), dict):
            name = news["entry"].get("service")
            self._send_all(self.book.recovery(news["entry"], now, self._tags.get(name, ())))

    def _ledger(self, name: str, before, after) -> None:
        """Tell the shared log an incident closed (an opened one is told when its down is queued)."""
        if before is not None and after is not before:
            self.log.incident_closed(name, before.id)

    def _is_pending(self, incident_id: str) -> bool:
        return any(event.incident == incident_id for event in self._pending)

    def _send_all(self, events: list[Event]) -> None:
        if events:
            self._flush_downs()  # a down always goes out before what follows it
        for event in events:
            send, quiet = route(event, self.config.routes, event.ts)
            for target in send:
                self._enqueue(target, event)
            for target in quiet:
                self._record(self._delivery(target, event), QUIET, "quiet hours")

    def _flush_downs(self) -> None:
        """The sweep's downs: per target, one grouped message when there are group_min or more."""
        events, self._pending = self._pending, []
        for event in events:  # into the shared log as its message is queued: a new leader adopts it, silent
            self.log.incident_opened(event.service, event.incident, event.since, event.reason)
        self._send_grouped(events)

    def _send_grouped(self, events: list[Event]) -> None:
        per_target: dict[str, list[Event]] = {}
        for event in events:
            send, quiet = route(event, self.config.routes, event.ts)
            for target in send:
                per_target.setdefault(target, []).append(event)
            for target in quiet:
                self._record(self._delivery(target, event), QUIET, "quiet hours")
        for target, mine in per_target.items():
            if len(mine) >= self.config.group_min:
                self._enqueue(target, msg.group(mine, mine[0].ts))
            else:
                for event in mine:
                    self._enqueue(target, event)

    # -- deliveries ----------------------------------------------------------------------------
    def _delivery(self, target: str, event: Event, test: bool = False) -> Delivery:
        public = self.config.public_url
        title = msg.title(event) if not test else "[TEST] Mission Control notification test"
        return Delivery(
            target, "test" if test else event.kind, event.service, title, msg.body(event, public),
            msg.notify_type(event), event.incident, event.reminder, test,
        )  # fmt: skip

    def _enqueue(self, target: str, event: Event) -> None:
        delivery = self._delivery(target, event)
        self._record(delivery, QUEUED, None)
        self.queues[target].put(delivery)

    def send_test(self, target: str) -> Delivery:
        """Queue a test message to `target` (first in its line, one attempt); wait on `.done` for the end."""
        if target not in self.queues or not self.active:
            raise UnknownTarget(target)
        now = datetime.now(UTC)
        text = "If you can read this, Mission Control's notifications reach this target."
        delivery = self._delivery(target, Event("test", None, "ok", text, now, now), test=True)
        self._record(delivery, QUEUED, None)
        self.queues[target].put(delivery)
        return delivery

    def _outcome(self, delivery: Delivery, outcome: str, error: str | None) -> None:
        """A delivery worker's news (its thread)."""
        self._record(delivery, outcome, error)

    def _record(self, delivery: Delivery, outcome: str, error: str | None) -> None:
        delivery.outcome, delivery.error = outcome, error
        if outcome != QUEUED:
            with self._counts_lock:
                self.counts[(delivery.target, outcome)] += 1
        self.log.update(entry_of(delivery))
        if outcome in FINAL:
            delivery.done.set()

    # -- views ---------------------------------------------------------------------------------
    def overview(self, limit: int = 50) -> dict:
        """GET /api/notifications: targets (names and kinds, never URLs), counts and recent deliveries."""
        with self._counts_lock:
            counts = [{"target": t, "outcome": o, "count": n} for (t, o), n in sorted(self.counts.items())]
        targets = [
            {"name": n, "kind": self.kinds[n], "queued": len(q), "dropped": q.dropped} for n, q in self.queues.items()
        ]
        entries = self.log.recent(limit=limit)
        open_incidents = [
            {"service": i.service, "since": i.since.isoformat(), "id": i.id} for i in list(self.book.open.values())
        ]
        return {
            "enabled": self.active,
            "targets": targets,
            "counts": counts,
            "incidents": open_incidents,
            "count": len(entries),
            "entries": entries,
        }


def entry_of(delivery: Delivery) -> dict:
    return {
        "id": delivery.id,
        "time": datetime.now(UTC).isoformat(),
        "target": delivery.target,
        "event": delivery.kind,
        "service": delivery.service,
        "title": delivery.title,
        "incident": delivery.incident,
        "reminder": delivery.reminder,
        "test": delivery.test,
        "attempt": delivery.attempt,
        "outcome": delivery.outcome,
        "error": delivery.error,
    }
