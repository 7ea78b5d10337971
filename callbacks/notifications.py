"""The notifications panel: the delivery log (refreshed on a timer) and the test button."""

from __future__ import annotations

import logging
from datetime import tzinfo

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from callbacks.common import clock, error_text, iso_local, parse_iso, request_tz
from layouts import ids
from layouts.notifications import delivery_list
from ops.notify import UnknownTarget
from ops.notify.notifier import entry_of

log = logging.getLogger(__name__)

LOG_LIMIT = 20
TEST_WAIT_S = 10.0  # the button waits this long for the outcome, then says it is still queued


def row_view(entry: dict, tz: tzinfo) -> dict:
    """One delivery log entry as the table shows it."""
    moment = parse_iso(entry.get("time"))
    event = str(entry.get("event") or "—")
    if entry.get("reminder"):
        event += f" (reminder {entry['reminder']})"
    detail = str(entry.get("title") or "")
    if entry.get("error"):
        detail += f"\n{entry['error']}"
    return {
        "key": str(entry.get("id")),
        "time_text": clock(moment, tz, with_date=True) or "—",
        "time_iso": iso_local(moment, tz),
        "target": str(entry.get("target") or "—"),
        "event": event,
        "title": str(entry.get("title") or ""),
        "detail": detail,
        "attempt": entry.get("attempt") or 0,
        "outcome": str(entry.get("outcome") or "unknown"),
    }


def test_result_text(entry: dict, target: str) -> str:
    outcome = entry.get("outcome")
    if outcome == "sent":
        return f"Test message sent to {target}."
    if outcome in ("queued", "retrying"):
        return f"Test message to {target} still queued; the log below will show how it ends."
    return f"Test message to {target} not delivered: {entry.get('error') or outcome}"


def register_callbacks(app, core) -> None:
    notifier = core.notifier

    @app.callback(
        Output(ids.NOTIFY_BODY, "children"),
        Output(ids.NOTIFY_TARGET, "options"),
        Output(ids.NOTIFY_TARGET, "value"),
        Output(ids.NOTIFY_REFRESH, "disabled"),
        Input(ids.NOTIFY_REFRESH, "n_intervals"),
        Input(ids.TICK, "data"),  # after every sweep too: a down message shows up with its sweep
        State(ids.NOTIFY_TARGET, "value"),
    )
    def refresh(_n, _tick, chosen):
        view = notifier.overview(limit=LOG_LIMIT)
        tz = request_tz()
        names = [t["name"] for t in view["targets"]]
        options = [{"label": f"{t['name']} ({t['kind']})", "value": t["name"]} for t in view["targets"]]
        # Never echo the chosen value back: a refresh in flight would undo a choice made meanwhile.
        value = no_update if chosen in names else (names[0] if names else None)
        # Without targets nothing is ever delivered and the panel says so: no need to ask every 3 s
        # (each poll is a Dash request and a render: ~2 ms of server CPU). Targets come from the config.
        rows = [row_view(e, tz) for e in view["entries"]]
        return delivery_list(rows, view["enabled"]), options, value, not view["enabled"]

    @app.callback(
        Output(ids.NOTIFY_RESULT, "children"),
        Output(ids.NOTIFY_BODY, "children", allow_duplicate=True),
        Input(ids.NOTIFY_TEST, "n_clicks"),
        State(ids.NOTIFY_TARGET, "value"),
        prevent_initial_call=True,
    )
    def send_test(clicks, target):
        if not clicks:
            raise PreventUpdate
        if not target:
            return "Choose a target first.", no_update
        try:
            delivery = notifier.send_test(target)
        except UnknownTarget:
            return f"No target called {target}.", no_update
        except Exception as exc:  # noqa: BLE001 - say why instead of failing silently
            log.exception("notification test failed")
            return f"Not sent: {error_text(exc)}", no_update
        delivery.done.wait(TEST_WAIT_S)  # bounded: a hung target answers "still queued"
        view = notifier.overview(limit=LOG_LIMIT)
        rows = [row_view(e, request_tz()) for e in view["entries"]]
        return test_result_text(entry_of(delivery), target), delivery_list(rows, view["enabled"])
