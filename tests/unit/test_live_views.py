"""What a new client or a poll starts from, and what a republish racing a sweep may not undo."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ops.events import EventBus
from ops.live_views import LiveViews

T0 = "2026-12-02T10:00:00+00:00"
T1 = "2026-12-02T10:00:10+00:00"


def view(name: str, status: str, checked: str, **extra) -> dict:
    return {"name": name, "status": status, "enabled": True, "last_checked": checked, **extra}


def test_a_client_joining_mid_sweep_starts_from_every_result_so_far():
    bus = EventBus()
    live = LiveViews(bus)
    live.publish_sweep(datetime.now(UTC), [view("a", "up", T0), view("b", "up", T0)], {}, 1, {})
    live.publish_result(view("a", "down", T1))  # the next sweep is under way
    subscription = bus.subscribe()
    first = json.loads(live.snapshot_text())  # what ws.py sends a new client, and GET /api/health answers
    assert [s["status"] for s in first["services"]] == ["down", "up"]
    assert first["overall"] == "down" and first["counts"]["down"] == 1
    live.publish_sweep(datetime.now(UTC), [view("a", "down", T1), view("b", "up", T1)], {}, 2, {})
    delta = json.loads(subscription.get(timeout=1))
    assert delta["type"] == "sweep" and [s["name"] for s in delta["services"]] == ["b"]


def test_a_view_built_before_a_newer_check_never_replaces_it():
    live = LiveViews(EventBus())
    live.publish_sweep(datetime.now(UTC), [view("a", "up", T0)], {}, 1, {})
    live.publish_result(view("a", "down", T1))
    # A republish (say, after a recovery) built its views before that result landed.
    snapshot = live.publish_sweep(datetime.now(UTC), [view("a", "up", T0, recovering=True)], {}, 1, {})
    assert snapshot["services"][0]["status"] == "down" and snapshot["counts"]["down"] == 1
    assert json.loads(live.snapshot_text())["services"][0]["last_checked"] == T1
    # The same check with new flags is news (maintenance started, a recovery began).
    live.publish_sweep(datetime.now(UTC), [view("a", "down", T1, maintenance=True)], {}, 1, {})
    assert json.loads(live.snapshot_text())["services"][0]["maintenance"] is True


def test_the_snapshot_text_is_kept_until_a_view_or_sweep_changes_it():
    """GET /api/health keeps its bytes by the text's identity: a change must make a new text at once."""
    live = LiveViews(EventBus())
    live.publish_sweep(datetime.now(UTC), [view("a", "up", T0), view("b", "up", T0)], {}, 1, {})
    first = live.snapshot_text()
    assert live.snapshot_text() is first  # nothing changed: built once, not per request
    live.publish_result(view("a", "up", T0))  # the same view again: still the same text
    assert live.snapshot_text() is first
    live.publish_result(view("b", "down", T1))
    after_result = json.loads(live.snapshot_text())
    assert [s["status"] for s in after_result["services"]] == ["up", "down"] and after_result["overall"] == "down"
    live.publish_sweep(datetime.now(UTC), [view("a", "up", T1), view("b", "down", T1)], {}, 2, {})
    assert json.loads(live.snapshot_text())["sweep"] == 2
