"""The drawer's actions on the open service: Check now, Recover now (confirm first), maintenance."""

from __future__ import annotations

import logging

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.common import clock, error_text, request_tz
from callbacks.details import view_of
from callbacks.header import request_sweep
from callbacks.recovery import row_view
from layouts import ids
from layouts.common import fmt_ms, status_text
from layouts.details import result_alert
from layouts.recovery import OUTCOME_STYLE

log = logging.getLogger(__name__)

OUTCOME_COLOUR = {"recovered": "success", "running": "info"}  # anything else did not bring it back


def shown_entry(shown) -> str | None:
    """The recovery id a "Recover now" message on screen still waits for (its data-entry), if any."""
    props = ((shown or {}).get("props") if isinstance(shown, dict) else None) or {}
    return props.get("data-entry") if props.get("data-outcome") == "running" else None


def outcome_text(entry: dict, tz) -> str:
    """How a manual attempt ended, with the reason when it did not bring the service back."""
    view = row_view(entry, tz)
    word = OUTCOME_STYLE.get(view["outcome"], (view["outcome"].upper(), ""))[0]
    why = " · ".join(filter(None, [view["reason"], view["facts"]]))
    return f"Recovery of {view['service']} ({view['action']}): {word}" + (f" · {why}." if why else ".")


def check_text(view: dict, tz) -> str:
    """What one service's fresh check found, in a sentence."""
    when = clock(view.get("last_checked"), tz)
    text = f"Checked at {when}: {status_text(view.get('status', 'pending'))}"
    # A failed check has no latency: its error says what happened instead.
    return text + (f" ({view['error']})." if view.get("error") else f", {fmt_ms(view.get('latency_ms'))}.")


def maintenance_text(name: str, enabled: bool, seconds: float | None) -> str:
    if not enabled:
        return f"Maintenance of {name} ended."
    until = f" for {seconds / 60:g} min" if seconds else " until you end it"
    return f"{name} is in maintenance{until}: no automatic recovery, no uptime counted."


def register_callbacks(app, core) -> None:
    @app.callback(
        Output(ids.LIVE, "data", allow_duplicate=True),
        Output(ids.DETAILS_RESULT, "children", allow_duplicate=True),
        Input(ids.DETAILS_CHECK, "n_clicks"),
        State(ids.SELECTED, "data"),
        running=[(Output(ids.DETAILS_CHECK, "disabled"), True, False)],
        prevent_initial_call=True,
    )
    def check_service(clicks, name):
        if not clicks or not name:
            raise PreventUpdate
        try:
            snapshot = request_sweep(core)
        except Exception as exc:  # noqa: BLE001
            log.exception("check of %s failed", name)
            return no_update, result_alert(f"Check failed: {error_text(exc)}", "danger")
        text = check_text(view_of(snapshot, name), request_tz())
        return snapshot, result_alert(text, "info", {"sweep": snapshot.get("sweep"), "action": "check"})

    register_recovery_actions(app, core)


def register_recovery_actions(app, core) -> None:
    """Recover now (confirm first) and maintenance on/off, through the recovery engine."""

    @app.callback(
        Output(ids.RECOVER_MODAL, "is_open"),
        Output(ids.RECOVER_MODAL_BODY, "children"),
        Output(ids.RECOVER_FORCE, "value"),
        Input(ids.DETAILS_RECOVER, "n_clicks"),
        Input(ids.RECOVER_CANCEL, "n_clicks"),
        State(ids.SELECTED, "data"),
        prevent_initial_call=True,
    )
    def toggle_recover(_open, _cancel, name):
        if ctx.triggered_id != ids.DETAILS_RECOVER or not name:
            return False, no_update, no_update
        service = core.settings.service(name)
        action = service.recovery.action if service else "none"
        return True, f"This runs the “{action}” recovery action of {name} now.", False

    @app.callback(
        Output(ids.RECOVER_MODAL, "is_open", allow_duplicate=True),
        Output(ids.DETAILS_RESULT, "children", allow_duplicate=True),
        Input(ids.RECOVER_CONFIRM, "n_clicks"),
        State(ids.SELECTED, "data"),
        State(ids.RECOVER_FORCE, "value"),
        prevent_initial_call=True,
    )
    def recover(clicks, name, force):
        if not clicks or not name:
            raise PreventUpdate
        try:
            entry = core.recovery.request_manual(name, force=bool(force))
        except Exception as exc:  # noqa: BLE001 - a conflict (or anything else) is shown, not swallowed
            return False, result_alert(f"Recovery not started: {error_text(exc)}", "warning", {"action": "recover"})
        text = f"Recovery of {name} started ({entry.get('action', 'action')}, attempt {entry.get('attempt', '?')})."
        data = {"action": "recover", "entry": entry.get("id", ""), "outcome": "running"}
        return False, result_alert(text, "info", data)

    @app.callback(
        Output(ids.DETAILS_RESULT, "children", allow_duplicate=True),
        Input(ids.RECOVERY_EVENT, "data"),
        Input(ids.DETAILS_RESULT, "children"),  # the attempt may have ended before its "started" arrived
        prevent_initial_call=True,
    )
    def follow_recovery(_event, shown):
        """A "Recover now" message follows its attempt to the outcome (read from the log, not the event)."""
        entry_id = shown_entry(shown)
        if not entry_id:
            raise PreventUpdate
        entry = next((e for e in core.recovery_log.recent(limit=200) if e.get("id") == entry_id), None)
        if entry is None or entry.get("outcome") in (None, "running"):
            raise PreventUpdate
        outcome = str(entry["outcome"])
        data = {"action": "recover", "entry": entry_id, "outcome": outcome}
        return result_alert(outcome_text(entry, request_tz()), OUTCOME_COLOUR.get(outcome, "warning"), data)

    @app.callback(
        Output(ids.DETAILS_RESULT, "children", allow_duplicate=True),
        Input(ids.MAINT_SWITCH, "n_clicks"),
        State(ids.SELECTED, "data"),
        State(ids.MAINT_DURATION, "value"),
        prevent_initial_call=True,
    )
    def maintenance(clicks, name, duration):
        if not clicks or not name:
            raise PreventUpdate
        # What the click means is decided here, from the engine's state now (the shared state on a
        # follower: any dashboard may set a window, the leader honours it), not from the page.
        enabled = not core.recovery.status(name).get("maintenance")
        seconds = float(duration or 0) or None
        try:
            core.recovery.set_maintenance(name, enabled, duration_s=seconds if enabled else None)
        except Exception as exc:  # noqa: BLE001
            return result_alert(f"Maintenance not changed: {error_text(exc)}", "warning", {"action": "maintenance"})
        return result_alert(maintenance_text(name, enabled, seconds), "info", {"action": "maintenance"})
