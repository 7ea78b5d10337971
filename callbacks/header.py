"""The header: overall status and sweep clock from each update, "Check now", theme and live wiring."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from dash import ClientsideFunction, Input, Output, State, html, no_update

from callbacks.common import error_text
from layouts import ids
from layouts.header import STORAGE_BANNER, overall_badge, storage_banner
from ops.core import follower_text

log = logging.getLogger(__name__)


def overall_from(snapshot: dict) -> tuple[str, dict]:
    """The fleet's status and counts as the server computed them (ops/fleet.py); never summed here."""
    return snapshot.get("overall") or "pending", dict(snapshot.get("counts") or {})


def clock_data(snapshot: dict, next_run: datetime | None, interval_s: float) -> dict:
    """When the last sweep ended and the next is due (the browser counts down)."""
    last = snapshot.get("time")
    due = next_run.isoformat() if next_run is not None else None
    if due is None or (last and due < last):
        try:
            due = (datetime.fromisoformat(last) + timedelta(seconds=interval_s)).isoformat() if last else None
        except ValueError:
            due = None
    return {"last": last, "next": due, "interval_s": interval_s, "sweep": snapshot.get("sweep")}


def header_parts(snapshot: dict, next_run: datetime | None, interval_s: float) -> tuple:
    """What the header shows for one snapshot: the fleet badge, the clock, the full-disk banner."""
    overall, counts = overall_from(snapshot)
    return (
        overall_badge(overall, counts),
        clock_data(snapshot, next_run, interval_s),
        storage_banner(snapshot.get("storage")),
    )


def sweep_summary(snapshot: dict, seconds: float) -> str:
    _, counts = overall_from(snapshot)
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()) if n)
    return f"Sweep #{snapshot.get('sweep')} done in {seconds:.1f} s: {parts or 'no services'}."


def request_sweep(core) -> dict:
    """Run a sweep now (shared with one already running) and return its snapshot."""
    timeout = max((s.timeout_s for s in core.settings.services), default=5.0) + 10
    return core.monitor.request_sweep(timeout=timeout)


def register_callbacks(app, core) -> None:
    # The fleet badge is drawn by the browser in the same frame as the rows (30_mc_live.js).
    @app.callback(
        Output(ids.CLOCK, "data"),
        Output(STORAGE_BANNER, "children"),
        Input(ids.LIVE, "data"),
        prevent_initial_call=True,
    )
    def render_header(snapshot):
        return header_parts(snapshot or {}, core.next_sweep(), core.monitor.interval)[1:]

    @app.callback(
        Output(ids.LIVE, "data", allow_duplicate=True),
        Output(ids.TOAST, "children"),
        Output(ids.TOAST, "is_open"),
        Input(ids.CHECK_NOW, "n_clicks"),
        running=[(Output(ids.CHECK_NOW, "disabled"), True, False)],
        prevent_initial_call=True,
    )
    def check_now(_clicks):
        refusal = core.not_leading()
        if refusal is not None:  # the leader probes; its next sweep reaches this page by the relay
            text = follower_text(refusal["leader"])
            return no_update, html.Span(text[0].upper() + text[1:] + ".", className="text-warning"), True
        began = time.monotonic()
        try:
            snapshot = request_sweep(core)
        except Exception as exc:  # noqa: BLE001 - the operator sees why instead of a dead button
            log.exception("check now failed")
            return no_update, html.Span(f"Check failed: {error_text(exc)}", className="text-danger"), True
        text = sweep_summary(snapshot, time.monotonic() - began)
        return snapshot, html.Span(text, **{"data-sweep": snapshot.get("sweep")}), True

    # Pure browser work: no server round trip (assets/30_mc_live.js).
    app.clientside_callback(
        ClientsideFunction("mc", "startLive"),
        Output(ids.BOOT, "data"),
        Input(ids.BOOT, "data"),
        State(ids.LIVE_CONFIG, "data"),
        State(ids.LIVE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("mc", "sweepClock"),
        Output(ids.SWEEP_CLOCK, "title"),  # written by the browser itself (no_update here)
        Input(ids.CLOCK, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("mc", "theme"),
        Output(ids.THEME_SWITCH, "value"),
        Input(ids.THEME_SWITCH, "value"),
    )
