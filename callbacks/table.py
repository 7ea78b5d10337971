"""The health table: sort headers and the phone's sort control; the rows are drawn in the browser.

Filter, sort and rows live in assets/22_mc_table.js, fed by the WebSocket: a result patches its row
in the same frame, with no server round trip (the server only answers /api/sparks for history)."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.table import COLUMNS, sort_label, sort_options, sort_state, sort_value

DEFAULT_SORT = {"col": "status", "dir": "asc"}
SORT_KEYS = {key for key, _, _ in COLUMNS}


def next_sort(sort: dict | None, col: str) -> dict:
    """Clicking a header: the same column flips its direction, another one starts ascending."""
    sort = sort or DEFAULT_SORT
    if sort.get("col") == col:
        return {"col": col, "dir": "desc" if sort.get("dir") == "asc" else "asc"}
    return {"col": col, "dir": "asc"}


def parse_sort(value: str | None) -> dict | None:
    """ "latency.desc" -> {"col": "latency", "dir": "desc"}; None for anything else."""
    col, _, direction = (value or "").partition(".")
    if col not in SORT_KEYS or direction not in ("asc", "desc"):
        return None
    return {"col": col, "dir": direction}


def register_callbacks(app, core) -> None:
    """Sort header clicks and the phone's sort control set SORT; the browser draws the rows."""

    @app.callback(
        Output(ids.SORT, "data"),
        Input({"type": ids.SORT_BUTTON, "col": ALL}, "n_clicks"),
        State(ids.SORT, "data"),
        prevent_initial_call=True,
    )
    def sort_clicked(_clicks, sort):
        if not ctx.triggered_id or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        return next_sort(sort, ctx.triggered_id["col"])

    @app.callback(
        Output(ids.SORT, "data", allow_duplicate=True),
        Input(ids.SORT_SELECT, "value"),
        State(ids.SORT, "data"),
        prevent_initial_call=True,
    )
    def sort_chosen(value, sort):
        chosen = parse_sort(value)
        if chosen is None or chosen == (sort or DEFAULT_SORT):
            raise PreventUpdate
        return chosen

    # The headers follow the SORT store, whoever set it: a click, the phone's control, or a deep link.
    @app.callback(
        Output({"type": ids.SORT_BUTTON, "col": ALL}, "children"),
        Output({"type": ids.SORT_HEADER, "col": ALL}, "aria-sort"),
        Output(ids.SORT_SELECT, "options"),
        Output(ids.SORT_SELECT, "value"),
        Input(ids.SORT, "data"),
        State(ids.SORT_SELECT, "options"),
        State(ids.SORT_SELECT, "value"),
        prevent_initial_call=True,
    )
    def sort_headers(sort, options, shown):
        sort = sort or DEFAULT_SORT
        titles = {key: text for key, text, _ in COLUMNS}
        labels = [sort_label(o["id"]["col"], titles[o["id"]["col"]], sort) for o in ctx.outputs_list[0]]
        aria = [sort_state(sort["col"], sort["dir"], o["id"]["col"])[1] for o in ctx.outputs_list[1]]
        # The phone's control offers the current sort even when a header or a link set one it lacks.
        wanted = sort_options(sort)
        return (
            labels,
            aria,
            no_update if options == wanted else wanted,
            no_update if shown == sort_value(sort) else sort_value(sort),
        )

    # Filter, sort and selection reach the browser's table at once (no round trip).
    app.clientside_callback(
        ClientsideFunction("mc", "tableView"),
        Output(ids.TABLE_COUNT, "children"),
        Input(ids.SORT, "data"),
        Input(ids.FILTER_TEXT, "value"),
        Input(ids.STATUS_FILTER, "value"),
        Input(ids.SELECTED, "data"),
    )
