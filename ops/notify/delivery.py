"""Delivery: one bounded queue and one worker thread per target, retries with backoff, Apprise to send.

A target that hangs or is down only ever holds up its own queue: the monitor loop and the requests
only append to a deque. The URL is a secret: it lives in the sender, and every text that leaves
this module (errors for the log, Apprise's and urllib3's own log lines) has its parts masked.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from config.notifications import DeliverySettings

log = logging.getLogger(__name__)

MASK = "***"
SENT, RETRYING, GAVE_UP, DROPPED, QUIET, QUEUED = "sent", "retrying", "gave_up", "dropped", "quiet", "queued"


def secret_parts(url: str) -> set[str]:
    """The URL and every piece of it that may be a token: user, password, host, path segments, query values."""
    parts = {url}
    try:
        split = urlsplit(url)
        pieces = [split.username, split.password, split.hostname, *split.path.split("/")]
        pieces += [value for _, value in parse_qsl(split.query)]
    except ValueError:
        return parts
    for piece in pieces:
        if piece and len(piece) >= 3:
            parts |= {piece, unquote(piece)}
    return parts


def mask(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class MaskFilter(logging.Filter):
    """Masks the targets' URL parts in the log records of Apprise and urllib3 (their DEBUG lines name URLs)."""

    LOGGERS = ("apprise", "urllib3.connectionpool")

    def __init__(self, secrets: set[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask(text, self.secrets)
        if masked != text:
            record.msg, record.args = masked, ()
        return True

    def install(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).addFilter(self)

    def remove(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeFilter(self)


class AppriseSender:
    """Sends to one Apprise URL; `send` returns None or a masked error text. Never raises."""

    def __init__(self, url: str, timeout_s: float, min_interval_s: float | None = None) -> None:
        self._url, self.timeout_s, self.min_interval_s = url, timeout_s, min_interval_s
        self._pace = 0.0  # Apprise waits this long between two sends to one service: not part of the timeout
        self.secrets = secret_parts(url)
        self._apprise = None

    def _build(self):
        import apprise  # loading its 100+ plugins takes a moment: on the worker thread, never at import

        plugin = apprise.Apprise.instantiate(self._url)
        if plugin is None:
            raise ValueError("not a URL Apprise understands (check the scheme and its fields)")
        for attr in ("socket_connect_timeout", "socket_read_timeout"):
            if hasattr(plugin, attr):
                setattr(plugin, attr, min(float(getattr(plugin, attr) or self.timeout_s), self.timeout_s))
        if self.min_interval_s is not None:
            plugin.request_rate_per_sec = self.min_interval_s
        self._pace = float(getattr(plugin, "request_rate_per_sec", 0) or 0)
        bundle = apprise.Apprise()
        bundle.add(plugin)
        return bundle

    def warm(self) -> None:
        """Load Apprise and parse the URL now, so the first alert does not pay for it (~0.7 s)."""
        try:
            self._apprise = self._apprise or self._build()
        except Exception:  # noqa: BLE001 - send() says why, in the delivery log, when there is something to send
            pass

    def send(self, title: str, body: str, notify_type: str) -> str | None:
        try:
            if self._apprise is None:
                self._apprise = self._build()
            deadline = self.timeout_s + self._pace
            result = self._apprise.notify(body=body, title=title, notify_type=notify_type, timeout=deadline)
        except Exception as exc:  # noqa: BLE001 - a plugin bug is a failed send, not a dead worker
            return mask(f"{type(exc).__name__}: {exc}", self.secrets)[:300]
        if result:
            return None
        said = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        text = "; ".join(dict.fromkeys(said)) or f"not delivered ({result.status.name.lower()})"
        return mask(text, self.secrets)[:300]


@dataclass
class Delivery:
    """One message for one target, and how its sending went so far."""

    target: str
    kind: str
    service: str | None
    title: str
    body: str
    notify_type: str
    incident: str | None = None
    reminder: int = 0
    test: bool = False
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    attempt: int = 0
    not_before: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    outcome: str = QUEUED
    error: str | None = None


Outcome = Callable[[Delivery, str, "str | None"], None]


class TargetQueue:
    """A bounded queue for one target and the thread that empties it (oldest dropped when full)."""

    def __init__(self, name: str, sender, settings: DeliverySettings, on_outcome: Outcome, clock=time.monotonic):
        self.name, self.sender, self.settings, self.on_outcome, self.clock = name, sender, settings, on_outcome, clock
        self._queue: deque[Delivery] = deque()
        self._ready = threading.Condition()
        self._stop = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"notify-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, delivery: Delivery) -> None:
        """Never blocks. A full queue gives up its oldest waiting message, with a log line."""
        with self._ready:
            dropped = self._queue.popleft() if len(self._queue) >= self.settings.queue_size else None
            # A test goes first: the operator waits for its answer, and it is tried once.
            (self._queue.appendleft if delivery.test else self._queue.append)(delivery)
            self._ready.notify()
        if dropped is not None:
            self.dropped += 1
            log.warning("notifications to %s: queue full (%d), oldest message dropped: %s",
                        self.name, self.settings.queue_size, dropped.title)  # fmt: skip
            self.on_outcome(dropped, DROPPED, "queue full: a newer message took its place")

    def __len__(self) -> int:
        with self._ready:
            return len(self._queue)

    def _next(self) -> Delivery | None:
        with self._ready:
            while not self._stop:
                if self._queue:
                    wait = self._queue[0].not_before - self.clock()
                    if wait <= 0:
                        return self._queue.popleft()
                    self._ready.wait(wait)
                else:
                    self._ready.wait()
            return None

    def _run(self) -> None:
        self.sender.warm()
        while (delivery := self._next()) is not None:
            delivery.attempt += 1
            error = self.sender.send(delivery.title, delivery.body, delivery.notify_type)
            if error is None:
                self.on_outcome(delivery, SENT, None)
            elif delivery.attempt >= self.settings.max_attempts or delivery.test:
                log.warning("notification to %s given up after %d attempt(s): %s", self.name, delivery.attempt, error)
                self.on_outcome(delivery, GAVE_UP, error)
            else:
                delay = min(self.settings.backoff_max_s, self.settings.backoff_s * 2 ** (delivery.attempt - 1))
                delivery.not_before = self.clock() + delay
                self.on_outcome(delivery, RETRYING, error)
                with self._ready:
                    if not self._stop:
                        self._queue.appendleft(delivery)  # first in line again: messages keep their order

    def stop(self, timeout: float = 1.0) -> int:
        """Stop the worker; returns how many messages were still waiting (lost with the process)."""
        with self._ready:
            self._stop = True
            waiting = len(self._queue)
            self._ready.notify_all()
        self._thread.join(timeout)
        return waiting
