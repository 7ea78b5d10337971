"""The drawer's actions on the open service: Check now, Recover now (confirm first), maintenance."""

from __future__ import annotations

import logging

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.common import clock, error_text, request_tz
from callbacks.details import view_of
from callbacks.header import request_sweep
from layouts import ids
from layouts.common import fmt_ms, status_text
from layouts.details import result_alert

log = logging.getLogger(__name__)



def check_text(view: dict, tz) -> str:
    """What one service's fresh check found, in a sentence."""
    when = clock(view.get("last_checked"), tz)
    text = f"Checked at {when}: {status_text(view.get('status', 'pending'))}, {fmt_ms(view.get('latency_ms'))}"
    return text + (f" ({view['error']})." if view.get("error") else ".")


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
        return False, result_alert(text, "success", {"action": "recover", "entry": entry.get("id", "")})

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
        # What the click means is decided here, from the engine's state now, not from the page.
        enabled = not view_of(core.monitor.snapshot(), name).get("maintenance")
        seconds = float(duration or 0) or None
        try:
            core.recovery.set_maintenance(name, enabled, duration_s=seconds if enabled else None)
        except Exception as exc:  # noqa: BLE001
            return result_alert(f"Maintenance not changed: {error_text(exc)}", "warning", {"action": "maintenance"})
        return result_alert(maintenance_text(name, enabled, seconds), "info", {"action": "maintenance"})
