"""The event bus: a slow listener loses only its own oldest messages."""

from __future__ import annotations

import threading

from ops.events import CLOSED, EventBus


def test_full_queue_drops_the_oldest():
    bus = EventBus(queue_size=3)
    slow = bus.subscribe()
    for i in range(5):
        bus.publish({"n": i})
    assert [slow.get(0) for _ in range(3)] == ['{"n":2}', '{"n":3}', '{"n":4}']
    assert slow.dropped == 2 and slow.get(0) == ""


def test_close_wakes_a_waiting_listener():
    bus = EventBus()
    subscription = bus.subscribe()
    got = []
    reader = threading.Thread(target=lambda: got.append(subscription.get(10)))
    reader.start()
    bus.close()
    reader.join(2)
    assert got == [CLOSED] and len(bus) == 0
