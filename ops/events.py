"""Fan-out of news (snapshots, results, recoveries) to any number of slow or fast listeners."""

from __future__ import annotations

import json
import threading
from collections import deque

CLOSED = None  # what get() returns once the bus or the subscription is closed

# One encoder for every message: json.dumps would build a new one per call, and at 1,000 services
# the monitor encodes a view and a fleet summary per result (100 a second).
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def encode(value: object) -> str:
    """The one JSON encoding of everything published."""
    return _ENCODER.encode(value)


class Subscription:
    """One listener's bounded queue: when it is full the oldest message is dropped."""

    def __init__(self, bus: EventBus, maxlen: int) -> None:
        self._bus = bus
        self._queue: deque[str] = deque(maxlen=maxlen)
        self._ready = threading.Condition()
        self._closed = False
        self.dropped = 0

    def put(self, message: str) -> None:
        """Never blocks: a listener that stops reading only loses its own oldest messages."""
        with self._ready:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(message)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> str | None:
        """The next message; "" on timeout; CLOSED (None) when closed."""
        with self._ready:
            if not self._queue and not self._closed:
                self._ready.wait(timeout)
            if self._queue:
                return self._queue.popleft()
            return CLOSED if self._closed else ""

    def close(self) -> None:
        self._bus.unsubscribe(self)
        with self._ready:
            self._closed = True
            self._ready.notify_all()


class EventBus:
    """Publishes JSON text once per event to every subscription."""

    def __init__(self, queue_size: int = 64) -> None:
        self.queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self, maxlen: int | None = None) -> Subscription:
        """A new listener; `maxlen` overrides the bus's queue size (a listener that must not miss news)."""
        subscription = Subscription(self, maxlen or self.queue_size)
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def publish(self, event: dict) -> str:
        """Serialise once, hand the same text to everyone; returns the text."""
        return self.publish_text(encode(event))

    def publish_text(self, text: str) -> str:
        """Hand JSON text the caller encoded (a JSON object with a "type") to everyone; returns it."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.put(text)
        return text

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def close(self) -> None:
        """Wake every listener with CLOSED (shutdown)."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.close()
