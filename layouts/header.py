"""The header: overall status, sweep clock, live-connection indicator, "Check now", theme switch."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.common import OVERALL_TEXT, STATUS_STYLE, icon, is_read_only

# The id of the full-disk banner (kept next to its one layout and callback; see layouts/ids.py for the rest).
STORAGE_BANNER = "mc-storage-banner"

# state -> (text, colour, icon); assets/live.js sets the same three (LIVE_CONFIG carries this table).
CONNECTION_STATES: dict[str, tuple[str, str, str]] = {
    "connecting": ("Connecting", "secondary", "live"),
    "live": ("Live", "success", "live"),
    "reconnecting": ("Reconnecting", "warning", "recovering"),
    "offline": ("Offline", "danger", "offline"),
}


def overall_badge(status: str, counts: dict) -> list:
    """Children of the OVERALL element: the fleet in one word plus the counts that explain it."""
    text = OVERALL_TEXT.get(status, status)
    _, colour, glyph = STATUS_STYLE.get(status, ("", "secondary", "pending"))
    problems = [f"{counts[k]} {k}" for k in ("down", "degraded", "pending", "maintenance") if counts.get(k)]
    return [
        html.Span([icon(glyph), text], className=f"badge text-bg-{colour} mc-overall-badge", **{"data-status": status}),
        html.Span(", ".join(problems), className="small text-body-secondary ms-2 d-none d-sm-inline"),
    ]


def storage_banner(storage: dict | None) -> list:
    """Children of the STORAGE_BANNER element: nothing while the history is saved, else why it is not.

    The snapshot's `storage` is {"ok", "error", "since"}; monitoring goes on from memory meanwhile,
    so the page says plainly that what it shows will not survive a restart.
    """
    if not storage or storage.get("ok", True):
        return []
    error = str(storage.get("error") or "history is not being saved")
    since = storage.get("since")
    return [
        html.Div(
            [
                icon("attention"),
                html.Strong(error[:1].upper() + error[1:], className="mc-storage-error"),
                html.Span(
                    " Monitoring goes on from memory; checks made meanwhile are written when space frees."
                    + (f" Since {since[:19].replace('T', ' ')} UTC." if isinstance(since, str) else ""),
                    className="small",
                ),
            ],
            className="alert alert-danger d-flex flex-wrap align-items-center gap-2 mb-0 py-1 px-3 mc-storage-alert",
            role="alert",
        )
    ]


def connection_badge(state: str = "connecting") -> html.Span:
    text, colour, _ = CONNECTION_STATES[state]
    return html.Span(
        text,
        id=ids.CONNECTION,
        className=f"badge rounded-pill text-bg-{colour} mc-connection",
        title="Live updates over the WebSocket",
        role="status",
        **{"data-state": state},
    )


def account_control(account: dict | None) -> list:
    """With auth on: "Log in", or the user and a "Log out" form (POST, with the CSRF token)."""
    if not account or not account.get("enabled"):
        return []
    if not account.get("user"):
        return [html.A("Log in", href="/login", className="btn btn-sm btn-outline-primary text-nowrap")]
    return [
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf", value=account.get("csrf", "")),
                html.Span(account["user"], className="small text-body-secondary me-1"),
                html.Button("Log out", type="submit", className="btn btn-sm btn-outline-secondary"),
            ],
            method="POST",
            action="/logout",
            className="d-flex align-items-center gap-1 mb-0",
        )
    ]


def header(
    overall: str, counts: dict, clock_text: str, account: dict | None = None, storage: dict | None = None
) -> html.Header:
    read_only = is_read_only(account)
    return html.Header(
        [
            _bar(overall, counts, clock_text, account, read_only),
            html.Div(storage_banner(storage), id=STORAGE_BANNER, className="w-100 mc-storage-banner"),
            html.Div(id=ids.STALE_BANNER, className="d-none", role="status"),
        ],
        className="navbar bg-body-tertiary border-bottom sticky-top mc-header",
    )


def _bar(overall: str, counts: dict, clock_text: str, account: dict | None, read_only: bool) -> html.Div:
    return html.Div(
        [
            html.H1(
                html.A(
                    [icon("pulse", "text-danger"), html.Span("Mission Control")],
                    href="/",
                    className="navbar-brand d-flex align-items-center gap-2 fw-semibold me-0",
                ),
                className="mb-0 me-2 mc-title",
            ),
            html.Div(
                overall_badge(overall, counts),
                id=ids.OVERALL,
                className="d-flex align-items-center",
                **{"aria-live": "polite"},
            ),
            html.Span(clock_text, id=ids.SWEEP_CLOCK, className="small text-body-secondary mc-clock"),
            html.Div(
                [
                    connection_badge(),
                    html.Button(
                        [icon("attention"), html.Span(" Alerts", className="mc-notify-text")],
                        id=ids.NOTIFY_TOGGLE,
                        type="button",
                        className="btn btn-sm btn-outline-secondary text-nowrap mc-notify",
                        title="Get a desktop notification when a service goes down, comes back or needs attention",
                        **{"aria-pressed": "false", "aria-label": "Alerts"},
                    ),
                    dbc.Button(
                        [icon("refresh"), " Check now"],
                        id=ids.CHECK_NOW,
                        size="sm",
                        color="primary",
                        title="Log in to check" if read_only else "Probe every service now",
                        class_name="text-nowrap",
                        disabled=read_only,
                    ),
                    dbc.Switch(
                        id=ids.THEME_SWITCH,
                        label=[icon("moon"), " Dark"],
                        value=False,
                        className="mb-0 mc-theme-switch",
                        input_class_name="mc-theme-input",
                    ),
                    *account_control(account),
                ],
                className="d-flex align-items-center gap-2 ms-auto",
            ),
        ],
        className="container-fluid d-flex flex-wrap align-items-center gap-2 gap-md-3",
    )
