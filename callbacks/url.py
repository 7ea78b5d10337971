"""Deep links: the URL holds the open service, the filter, the sort and the chart's window.

Pure browser work (assets/31_mc_page.js, mc.fromUrl / mc.toUrl): a link pasted in a chat opens
the same view, opening a service adds a history entry, and Back closes the details again. Each URL
the page writes is told to dcc.Location, so Back to any earlier URL (a plain "/" too) reaches fromUrl;
what a link may say (statuses, sort columns, windows) comes from the LIVE_CONFIG store.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State

from layouts import ids


def register_callbacks(app, _core) -> None:
    # Read: on load and on Back/Forward (dcc.Location follows popstate). An unknown value means the default.
    app.clientside_callback(
        ClientsideFunction("mc", "fromUrl"),
        Output(ids.FILTER_TEXT, "value"),
        Output(ids.STATUS_FILTER, "value"),
        Output(ids.SORT, "data", allow_duplicate=True),
        Output(ids.DETAILS_WINDOW, "value"),
        Output(ids.OPEN_REQUEST, "data"),
        Output(ids.DETAILS, "is_open", allow_duplicate=True),
        Input(ids.URL, "search"),
        State(ids.SELECTED, "data"),
        State(ids.FILTER_TEXT, "value"),
        State(ids.STATUS_FILTER, "value"),
        State(ids.SORT, "data"),
        State(ids.DETAILS_WINDOW, "value"),
        State(ids.LIVE_CONFIG, "data"),
        State(ids.DETAILS, "is_open"),
        prevent_initial_call="initial_duplicate",
    )
    # Write: every change of the view (replaceState; opening a service pushes a history entry).
    app.clientside_callback(
        ClientsideFunction("mc", "toUrl"),
        Output(ids.URL_SYNC, "data"),
        Input(ids.SELECTED, "data"),
        Input(ids.FILTER_TEXT, "value"),
        Input(ids.STATUS_FILTER, "value"),
        Input(ids.SORT, "data"),
        Input(ids.DETAILS_WINDOW, "value"),
        State(ids.LIVE_CONFIG, "data"),
        prevent_initial_call=True,
    )
