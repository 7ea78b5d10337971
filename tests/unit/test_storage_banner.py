"""The full-disk banner: absent while the history is saved, plain words in the header when it is not."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dash import html

from callbacks.header import header_parts
from layouts.header import STORAGE_BANNER, header, storage_banner
from ops.snapshot import build_snapshot

FULL = {"ok": False, "error": "history is not being saved: disk full", "since": "2026-01-02T03:04:05.678+00:00"}


def find(component, component_id):
    """The component with this id anywhere under `component`."""
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found = find(child, component_id)
            if found is not None:
                return found
    return None


def text_of(component) -> str:
    return json.dumps(component.to_plotly_json() if hasattr(component, "to_plotly_json") else component, default=str)


def test_no_banner_while_the_history_is_saved():
    assert storage_banner(None) == []
    assert storage_banner({"ok": True, "error": None, "since": None}) == []


def test_banner_says_why_and_since_when_as_an_alert():
    (alert,) = storage_banner(FULL)
    assert isinstance(alert, html.Div) and alert.role == "alert" and "alert-danger" in alert.className
    text = text_of(alert)
    assert "History is not being saved: disk full" in text and "2026-01-02 03:04:05 UTC" in text
    assert "Monitoring goes on" in text


def test_the_header_holds_the_banner_element_empty_or_filled():
    empty = find(header("up", {"up": 1}, ""), STORAGE_BANNER)
    assert empty is not None and empty.children == []
    filled = find(header("up", {"up": 1}, "", storage=FULL), STORAGE_BANNER)
    assert "disk full" in text_of(filled)


def test_the_header_callback_shows_the_snapshots_storage_state():
    snapshot = build_snapshot_with(FULL)
    badge, clock, banner = header_parts(snapshot, None, 30.0)
    assert "disk full" in text_of(banner[0]) and clock["sweep"] == 3
    _, _, none = header_parts(build_snapshot_with(None), None, 30.0)
    assert none == []


def test_a_snapshot_says_storage_is_fine_unless_told_otherwise():
    assert build_snapshot_with(None)["storage"] == {"ok": True, "error": None, "since": None}
    assert build_snapshot_with(FULL)["storage"] == FULL


def build_snapshot_with(storage):
    return build_snapshot(datetime(2026, 1, 2, tzinfo=UTC), [], {}, 3, storage=storage)
