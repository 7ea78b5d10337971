"""The notifications panel: the delivery log and a button that sends a test to one target (no I/O)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.common import icon

REFRESH_MS = 3000
OUTCOME_STYLE: dict[str, tuple[str, str]] = {
    "queued": ("QUEUED", "primary"),
    "sent": ("SENT", "success"),
    "retrying": ("RETRYING", "warning"),
    "gave_up": ("GAVE UP", "danger"),
    "dropped": ("DROPPED", "danger"),
    "quiet": ("QUIET HOURS", "secondary"),
}


def outcome_badge(outcome: str) -> html.Span:
    text, colour = OUTCOME_STYLE.get(outcome, (outcome.upper().replace("_", " "), "secondary"))
    return html.Span(text, className=f"badge text-bg-{colour}", **{"data-outcome": outcome})


def delivery_list(rows: list[dict], enabled: bool) -> html.Div:
    """Rows (prepared by callbacks.notifications.row_view), newest first."""
    if not enabled:
        return html.Div(
            "Notifications are not configured (see `notifications` in config/README.md).",
            className="text-body-secondary small py-2 mc-notify-empty",
        )
    if not rows:
        return html.Div("Nothing sent yet.", className="text-body-secondary small py-2 mc-notify-empty")
    head = ["Time", "Target", "Event", "Message", "Tries", "Outcome"]
    body = [
        html.Tr(
            [
                html.Td(r["time_text"], className="mc-num text-nowrap", title=r["time_iso"] or None),
                html.Td(r["target"], className="text-nowrap"),
                html.Td(r["event"], className="text-nowrap"),
                html.Td(
                    html.Div(r["title"], className="text-truncate", style={"maxWidth": "28rem"}), title=r["detail"]
                ),
                html.Td(str(r["attempt"]), className="mc-num"),
                html.Td(outcome_badge(r["outcome"])),
            ],
            key=r["key"],
            **{"data-delivery": r["key"], "data-target": r["target"]},
        )
        for r in rows
    ]
    return html.Div(
        html.Table(
            [html.Thead(html.Tr([html.Th(h, scope="col") for h in head])), html.Tbody(body)],
            className="table table-sm align-middle mb-0 mc-notify-table mc-small-table",
        ),
        className="table-responsive",
    )


def notifications_panel(read_only: bool = False) -> dbc.Card:
    """Filled by its callbacks when the page loads, then every REFRESH_MS."""
    controls = [
        html.H2([icon("attention"), " Notifications"], className="h6 card-title mb-0 me-auto"),
        html.Span(id=ids.NOTIFY_RESULT, className="small text-body-secondary", role="status"),
        # A native <select>: keyboard and screen readers know it, and it fits a phone's width.
        html.Label("Target", htmlFor=ids.NOTIFY_TARGET, className="visually-hidden"),
        dbc.Select(id=ids.NOTIFY_TARGET, options=[], size="sm", style={"width": "auto"}),
        dbc.Button(
            [icon("bolt"), " Send test"],
            id=ids.NOTIFY_TEST,
            size="sm",
            color="primary",
            outline=True,
            title="Send a test message to the chosen target and show the result",
            disabled=read_only,
        ),
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(controls, className="d-flex align-items-center gap-2 mb-2 flex-wrap"),
                html.Div(id=ids.NOTIFY_BODY, className="mc-notify"),
                dcc.Interval(id=ids.NOTIFY_REFRESH, interval=REFRESH_MS),
            ]
        ),
        className="mc-panel mb-3",
        id="mc-notifications",
    )
