"""The whole page, from a view model that callbacks.view.initial_view() prepares (no I/O here)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.cards import summary_cards
from layouts.details import details_panel
from layouts.header import CONNECTION_STATES, header
from layouts.recovery import recovery_panel
from layouts.table import health_table

# Read by assets/live.js: the ids it updates and how it paces itself.
LIVE_SETTINGS = {"flush_ms": 150, "poll_ms": 3000, "offline_after_ms": 8000, "backoff_max_ms": 10000}


def live_config() -> dict:
    return {
        "ids": {
            "live": ids.LIVE,
            "tick": ids.TICK,
            "recovery": ids.RECOVERY_EVENT,
            "connection": ids.CONNECTION,
            "open": ids.OPEN_REQUEST,
        },
        "states": {k: {"text": t, "colour": c, "icon": i} for k, (t, c, i) in CONNECTION_STATES.items()},
        **LIVE_SETTINGS,
    }


def stores(view: dict) -> list:
    # Never data=None: a memory dcc.Store "restores" undefined over a null at mount, which fires every
    # callback listening to it (a dozen server round trips during the first paint).
    snapshot = view["snapshot"]
    return [
        dcc.Store(id=ids.LIVE, data=snapshot),
        dcc.Store(id=ids.TICK, data={"sweep": snapshot.get("sweep"), "time": snapshot.get("time")}),
        dcc.Store(id=ids.RECOVERY_EVENT, data={"n": 0}),
        dcc.Store(id=ids.LIVE_CONFIG, data=live_config()),
        dcc.Store(id=ids.CLOCK, data=view["clock"]),
        dcc.Store(id=ids.SELECTED, data=""),
        dcc.Store(id=ids.OPEN_REQUEST, data={"n": 0}),
        dcc.Store(id=ids.DETAIL_VIEW, data={}),
        dcc.Store(id=ids.DETAIL_TICK, data={}),
        dcc.Store(id=ids.CHART_KEY, data=""),
        dcc.Store(id=ids.SORT, data=view["sort"]),
        dcc.Store(id=ids.SPARK_KEY, data=view["spark_key"]),
        dcc.Store(id=ids.BOOT, data=0),
        dcc.Interval(id=ids.CLOCK_TIMER, interval=1000),
        dcc.Download(id=ids.DOWNLOAD),
    ]


def page_layout(view: dict) -> html.Div:
    """Header, summary cards, health table, recovery log, the details drawer and the stores."""
    snapshot = view["snapshot"]
    account = view.get("account") or {}
    read_only = bool(account.get("enabled") and not account.get("user"))  # auth on, nobody logged in
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
                        health_table(
                            view["rows"],
                            view["sort"],
                            None,
                            snapshot.get("sweep"),
                            view["spark_figure"],
                            view["count_text"],
                            view["spark_points"],
                        ),
                        id="mc-services",
                    ),
                    recovery_panel(view["log_entries"], read_only),
                ],
                className="container-fluid py-3 mc-main",
            ),
            details_panel(read_only),
            toast,
            *stores(view),
        ],
        className="mc-root",
    )
