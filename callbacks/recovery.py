"""The recovery log panel: recent entries, live on "recovery" messages, and Clear (after confirming)."""

from __future__ import annotations

import logging
from datetime import tzinfo

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.common import clock, error_text, request_tz
from callbacks.summary import entry_time
from layouts import ids
from layouts.recovery import entry_list

log = logging.getLogger(__name__)

LOG_LIMIT = 20
DETAIL_KEYS = ("reason", "error", "message", "detail")


def _detail(entry: dict) -> str:
    parts = [str(entry[k]) for k in DETAIL_KEYS if entry.get(k)]
    if entry.get("duration_s") is not None and entry.get("outcome") != "running":
        parts.append(f"{float(entry['duration_s']):.1f} s")
    if entry.get("exit_code") not in (None, 0):
        parts.append(f"exit {entry['exit_code']}")
    if entry.get("forced"):
        parts.append("forced")
    return " · ".join(parts)


def entry_view(entry: dict, tz: tzinfo) -> dict:
    """One log entry as the lists show it, whatever optional fields it has."""
    moment = entry_time(entry)
    attempt = entry.get("attempt")
    action = str(entry.get("action") or "—")
    return {
        "key": str(entry.get("id") or f"{entry.get('service')}-{entry.get('time')}"),
        "time_text": clock(moment, tz, with_date=True) or "—",
        "service": str(entry.get("service") or "—"),
        "trigger": str(entry.get("trigger") or "—"),
        "action": f"{action} #{attempt}" if attempt else action,
        "outcome": str(entry.get("outcome") or entry.get("status") or "unknown"),
        "detail": _detail(entry),
    }


def log_views(core, tz: tzinfo, service: str | None = None, limit: int = LOG_LIMIT) -> list[dict]:
    return [entry_view(e, tz) for e in core.recovery_log.recent(limit=limit, service=service)]


def register_callbacks(app, core) -> None:
    @app.callback(
        Output(ids.LOG_BODY, "children"),
        Input(ids.RECOVERY_EVENT, "data"),
        prevent_initial_call=True,
    )
    def render_log(_event):
        return entry_list(log_views(core, request_tz()))

    @app.callback(
        Output(ids.CLEAR_MODAL, "is_open"),
        Input(ids.LOG_CLEAR, "n_clicks"),
        Input(ids.CLEAR_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
    def toggle_clear(_open, _cancel):
        return ctx.triggered_id == ids.LOG_CLEAR

    @app.callback(
        Output(ids.CLEAR_MODAL, "is_open", allow_duplicate=True),
        Output(ids.LOG_BODY, "children", allow_duplicate=True),
        Output(ids.LOG_RESULT, "children"),
        Input(ids.CLEAR_CONFIRM, "n_clicks"),
        State(ids.CLEAR_MODAL, "is_open"),
        prevent_initial_call=True,
    )
    def clear_log(clicks, is_open):
        if not clicks or not is_open:
            raise PreventUpdate
        try:
            cleared = core.recovery_log.clear()
        except Exception as exc:  # noqa: BLE001 - say why instead of failing silently
            log.exception("clearing the recovery log failed")
            return False, no_update, f"Not cleared: {error_text(exc)}"
        return False, entry_list(log_views(core, request_tz())), f"Cleared {cleared} entries."
