"""The recovery log panel: recent entries, live on "recovery" messages, and Clear (after confirming)."""

from __future__ import annotations

import logging
from datetime import tzinfo

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.common import clock, error_text, iso_local, request_tz
from callbacks.summary import entry_time
from layouts import ids
from layouts.recovery import entry_list

log = logging.getLogger(__name__)

LOG_LIMIT = 20
DETAIL_KEYS = ("reason", "error", "message", "detail")
FAILED_OUTCOMES = ("action_failed", "timed_out", "interrupted")  # outcomes whose output says why
REASON_CHARS = 120  # one line in the table; the row's title has the whole text


def _last_line(text) -> str | None:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[-1] if lines else None


def _reason(entry: dict, full: bool = False) -> str:
    """Why the attempt ended so: the error or reason, then what the action printed (a command's
    stderr, Docker's or the webhook's answer): its last line, or all of it when `full`."""
    parts = [str(entry[k]) for k in DETAIL_KEYS if entry.get(k)]
    output = str(entry.get("output_tail") or "").strip()
    if output and (full or entry.get("outcome") in FAILED_OUTCOMES):
        parts.append(output if full else _last_line(output))
    if not parts and entry.get("outcome") == "still_down":
        parts.append("still down after verification")
    return ("\n" if full else " · ").join(parts)


def _facts(entry: dict, reason: str) -> list[str]:
    facts = []
    if entry.get("duration_s") is not None and entry.get("outcome") != "running":
        facts.append(f"{float(entry['duration_s']):.1f} s")
    code = entry.get("exit_code")
    if code not in (None, 0) and f"exit code {code}" not in reason:  # "exit code 1 · exit 1" says it twice
        facts.append(f"exit {code}")
    if entry.get("forced"):
        facts.append("forced")
    return facts


def _short(reason: str) -> str:
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1].rstrip() + "…"


def _detail(entry: dict) -> str:
    """One line: the reason (cut at REASON_CHARS), duration, exit code, forced."""
    reason = _reason(entry)
    return " · ".join(filter(None, [_short(reason), *_facts(entry, reason)]))


def detail_title(entry: dict) -> str:
    """The whole reason for the row's tooltip: error, full output tail, then the facts."""
    reason = _reason(entry, full=True)
    return "\n".join(filter(None, [reason, " · ".join(_facts(entry, reason))]))


def entry_view(entry: dict, tz: tzinfo) -> dict:
    """One log entry as the lists show it, whatever optional fields it has."""
    moment = entry_time(entry)
    attempt = entry.get("attempt")
    action = str(entry.get("action") or "—")
    return {
        "key": str(entry.get("id") or f"{entry.get('service')}-{entry.get('time')}"),
        "time_text": clock(moment, tz, with_date=True) or "—",
        "time_iso": iso_local(moment, tz),
        "service": str(entry.get("service") or "—"),
        "trigger": str(entry.get("trigger") or "—"),
        "action": f"{action} #{attempt}" if attempt else action,
        "outcome": str(entry.get("outcome") or entry.get("status") or "unknown"),
        "detail": _detail(entry),
    }


def row_view(entry: dict, tz: tzinfo) -> dict:
    """entry_view plus the pieces the log table lays out apart: the reason (which may be cut short
    on screen), the facts (never cut) and the whole text for hovering."""
    reason = _reason(entry)
    facts = " · ".join(_facts(entry, reason))
    return {**entry_view(entry, tz), "reason": _short(reason), "facts": facts, "detail_title": detail_title(entry)}


def log_views(core, tz: tzinfo, service: str | None = None, limit: int = LOG_LIMIT) -> list[dict]:
    return [row_view(e, tz) for e in core.recovery_log.recent(limit=limit, service=service)]


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
