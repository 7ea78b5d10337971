"""The whole page, from a view model that callbacks.view.initial_view() prepares (no I/O here)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.cards import summary_cards
from layouts.common import OVERALL_TEXT, is_read_only
from layouts.details import details_panel
from layouts.header import CONNECTION_STATES, header
from layouts.notifications import notifications_panel
from layouts.recovery import recovery_panel
from layouts.table import health_table, table_config

# Read by assets/30_mc_live.js: the ids it updates and how it paces itself.
LIVE_SETTINGS = {
    "flush_ms": 150,
    "poll_ms": 3000,
    "offline_after_ms": 8000,
    "backoff_max_ms": 10000,
    "stale_grace_ms": 5000,  # data older than one interval plus this, with the socket down, is stale
}


def fleet_head(snapshot: dict) -> dict:
    """The snapshot without its services: what the header's server callback needs. The browser keeps
    the services itself (30_mc_live.js), so no live update posts a thousand rows back to the server."""
    return {key: value for key, value in snapshot.items() if key != "services"}


def live_config(
    read_only: bool = False, interval_s: float = 40.0, table: dict | None = None, ws_port: int | None = None
) -> dict:
    return {
        "ids": {
            "live": ids.LIVE,
            "tick": ids.TICK,
            "recovery": ids.RECOVERY_EVENT,
            "connection": ids.CONNECTION,
            "open": ids.OPEN_REQUEST,
            "stale": ids.STALE_BANNER,
            "notify": ids.NOTIFY_TOGGLE,
            "details": ids.DETAILS,
            "clock": ids.SWEEP_CLOCK,
            "table": ids.TABLE,
            "table_body": ids.TABLE_BODY,
            "count": ids.TABLE_COUNT,
            "overall": ids.OVERALL,
            "detail_view": ids.DETAIL_VIEW,
            "url": ids.URL,  # assets/31_mc_page.js tells it each URL the page writes
            "auth_alert": ids.AUTH_ALERT,
            "auth_text": ids.AUTH_TEXT,
            "dialogs": [ids.RECOVER_MODAL, ids.CLEAR_MODAL],
            "actions": [ids.CHECK_NOW, ids.DETAILS_CHECK],  # those with a "running" state
        },
        "states": {k: {"text": t, "colour": c, "icon": i} for k, (t, c, i) in CONNECTION_STATES.items()},
        "read_only": read_only,
        "interval_ms": int(interval_s * 1000),
        "ws_port": ws_port,
        "table": {**table_config(), **(table or {})},
        "overall_text": OVERALL_TEXT,
        **LIVE_SETTINGS,
    }


def auth_alert() -> dbc.Alert:
    """Shown by assets/30_mc_live.js when the server refuses an action (401/403)."""
    return dbc.Alert(
        [html.Span(id=ids.AUTH_TEXT), " ", html.A("Log in", href="/login", className="alert-link")],
        id=ids.AUTH_ALERT,
        color="warning",
        is_open=False,
        dismissable=True,
        className="mc-auth-alert shadow",
    )


def stores(view: dict) -> list:
    # Never data=None: a memory dcc.Store "restores" undefined over a null at mount, which fires every
    # callback listening to it (a dozen server round trips during the first paint).
    snapshot = view["snapshot"]
    return [
        dcc.Store(id=ids.LIVE, data=fleet_head(snapshot)),
        dcc.Store(id=ids.TICK, data={"sweep": snapshot.get("sweep"), "time": snapshot.get("time")}),
        dcc.Store(id=ids.RECOVERY_EVENT, data={"n": 0}),
        dcc.Store(
            id=ids.LIVE_CONFIG,
            data=live_config(
                is_read_only(view.get("account")),
                (view.get("clock") or {}).get("interval_s", 40.0),
                view.get("table"),
                view.get("ws_port"),
            ),
        ),
        dcc.Store(id=ids.CLOCK, data=view["clock"]),
        dcc.Store(id=ids.SELECTED, data=""),
        dcc.Store(id=ids.OPEN_REQUEST, data={"n": 0}),
        dcc.Store(id=ids.DETAIL_VIEW, data={}),
        dcc.Store(id=ids.DETAIL_TICK, data={}),
        dcc.Store(id=ids.CHART_KEY, data=""),
        dcc.Store(id=ids.SORT, data=view["sort"]),
        dcc.Store(id=ids.BOOT, data=0),
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.URL_SYNC, data=0),
        dcc.Download(id=ids.DOWNLOAD),
    ]


def page_layout(view: dict) -> html.Div:
    """Header, summary cards, health table, recovery log, the details drawer and the stores."""
    snapshot = view["snapshot"]
    account = view.get("account") or {}
    read_only = is_read_only(account)
    toast = dbc.Toast(
        id=ids.TOAST, header="Mission Control", is_open=False, duration=6000, dismissable=True, className="mc-toast"
    )
    return html.Div(
        [
            html.A("Skip to the services table", href="#mc-services", className="visually-hidden-focusable"),
            header(view["overall"], view["counts"], view["clock_text"], view.get("account"), snapshot.get("storage")),
            html.Main(
                [
                    dbc.Row(summary_cards(view["summary"]), id=ids.CARDS, className="g-2 g-md-3 mb-3"),
                    html.Div(
                        health_table(view["sort"], view["count_text"], view["spark_points"]),
                        id="mc-services",
                    ),
                    recovery_panel(view["log_entries"], read_only),
                    notifications_panel(read_only),
                ],
                className="container-fluid py-3 mc-main",
            ),
            details_panel(read_only),
            toast,
            auth_alert(),
            *stores(view),
        ],
        className="mc-root",
    )
