"""Deep links: the URL holds the open service, the filter, the sort and the chart's window.

Pure browser work (assets/30_mc_live.js, mc.fromUrl / mc.toUrl): a link pasted in a chat opens
the same view, opening a service adds a history entry, and Back closes the details again.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State

from layouts import ids


def register_callbacks(app, _core) -> None:
    # Read: on load and on Back/Forward (dcc.Location follows popstate).
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
        prevent_initial_call=True,
    )
