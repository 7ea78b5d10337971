"""The health table: rows from the snapshot, sort and filter, and the one-figure sparkline column."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.common import clock, iso_local, request_tz
from callbacks.sparklines import spark_key, spark_points, spark_since, sparkline_figure
from layouts import ids
from layouts.table import COLUMNS, sort_label, sort_state, spark_style, table_rows
from ops.fleet import fleet_status, severity

DEFAULT_SORT = {"col": "status", "dir": "asc"}
SORT_KEYS = {key for key, _, _ in COLUMNS}


def rows_from_snapshot(snapshot: dict, tz: tzinfo) -> list[dict]:
    """One display row per service view, in the snapshot's (configuration) order."""
    rows = []
    for view in snapshot.get("services", []):
        uptime = view.get("uptime") or {}
        rows.append(
            {
                "name": view["name"],
                "target": view.get("target"),
                "tags": list(view.get("tags") or []),
                "status": view.get("status", "pending"),
                "maintenance": bool(view.get("maintenance")),
                "recovering": bool(view.get("recovering")),
                "needs_attention": bool(view.get("needs_attention")),
                "flapping": bool(view.get("flapping")),
                "latency_ms": view.get("latency_ms"),
                "uptime_1h": uptime.get("1h"),
                "uptime_24h": uptime.get("24h"),
                "uptime_7d": uptime.get("7d"),
                "failures": view.get("consecutive_failures") or 0,
                "last_checked": view.get("last_checked"),
                "last_checked_text": clock(view.get("last_checked"), tz),
                "last_checked_iso": iso_local(view.get("last_checked"), tz),
                "error": view.get("error"),
            }
        )
    return rows


def filter_rows(rows: list[dict], text: str | None, status: str | None) -> list[dict]:
    """Rows whose name, target or a tag contains `text`, with the chosen status ("problems": not up)."""
    needle = (text or "").strip().lower()
    out = []
    for row in rows:
        if needle and not any(needle in (s or "").lower() for s in (row["name"], row["target"], *row["tags"])):
            continue
        if status == "problems" and row["status"] == "up" and not row["needs_attention"]:
            continue
        if status == "maintenance" and not (row["maintenance"] or row["status"] == "maintenance"):
            continue
        if status not in (None, "", "all", "problems", "maintenance") and row["status"] != status:
            continue
        out.append(row)
    return out


def _sort_value(row: dict, col: str):
    if col == "name":
        return row["name"].lower()
    if col == "status":
        return (severity(fleet_status(row)), not row["needs_attention"], row["name"].lower())
    if col == "latency":
        return row["latency_ms"]
    return row.get(col)


def sort_rows(rows: list[dict], sort: dict | None) -> list[dict]:
    """Sorted by one column; rows without a value go last either way, ties by name."""
    sort = sort or DEFAULT_SORT
    col = sort.get("col") if sort.get("col") in SORT_KEYS else DEFAULT_SORT["col"]
    by_name = sorted(rows, key=lambda r: r["name"].lower())
    known = [r for r in by_name if _sort_value(r, col) is not None]
    missing = [r for r in by_name if _sort_value(r, col) is None]
    known.sort(key=lambda r: _sort_value(r, col), reverse=sort.get("dir") == "desc")
    return known + missing


def next_sort(sort: dict | None, col: str) -> dict:
    """Clicking a header: the same column flips its direction, another one starts ascending."""
    sort = sort or DEFAULT_SORT
    if sort.get("col") == col:
        return {"col": col, "dir": "desc" if sort.get("dir") == "asc" else "asc"}
    return {"col": col, "dir": "asc"}


def table_view(
    snapshot: dict,
    frame_for_sparks,
    sort: dict | None,
    text: str | None,
    status: str | None,
    tz: tzinfo,
    previous_key: dict | None = None,
    interval_s: float = 40.0,
) -> dict:
    """Rows, count text and (when it changed) the sparkline figure; `frame_for_sparks()` reads history lazily."""
    rows = rows_from_snapshot(snapshot, tz)
    shown = sort_rows(filter_rows(rows, text, status), sort)
    order = [r["name"] for r in shown]
    key = spark_key(snapshot, order, tz)
    figure = None
    if key != previous_key:
        figure = sparkline_figure(spark_points(frame_for_sparks()), order, tz, snapshot.get("sweep"), interval_s)
    count = f"{len(shown)} of {len(rows)} services" if len(shown) != len(rows) else f"{len(rows)} services"
    return {"rows": shown, "order": order, "key": key, "figure": figure, "count_text": count}


def register_callbacks(app, core) -> None:
    """Sort header clicks, and the rows + sparklines on every live update, sort or filter change."""

    def frame_for_sparks():
        now = datetime.now(UTC)
        return core.store.frame(since=spark_since(core.settings.interval_s, now))

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

    # The headers follow the SORT store, whoever set it: a click, or a deep link (?sort=name.desc).
    @app.callback(
        Output({"type": ids.SORT_BUTTON, "col": ALL}, "children"),
        Output({"type": ids.SORT_HEADER, "col": ALL}, "aria-sort"),
        Input(ids.SORT, "data"),
        prevent_initial_call=True,
    )
    def sort_headers(sort):
        sort = sort or DEFAULT_SORT
        titles = {key: text for key, text, _ in COLUMNS}
        labels = [sort_label(o["id"]["col"], titles[o["id"]["col"]], sort) for o in ctx.outputs_list[0]]
        aria = [sort_state(sort["col"], sort["dir"], o["id"]["col"])[1] for o in ctx.outputs_list[1]]
        return labels, aria

    @app.callback(
        Output(ids.TABLE_BODY, "children"),
        Output(ids.SPARK_GRAPH, "figure"),
        Output(ids.SPARK_GRAPH, "style"),
        Output(ids.SPARK_KEY, "data"),
        Output(ids.TABLE_COUNT, "children"),
        Input(ids.LIVE, "data"),
        Input(ids.SORT, "data"),
        Input(ids.FILTER_TEXT, "value"),
        Input(ids.STATUS_FILTER, "value"),
        Input(ids.SELECTED, "data"),
        State(ids.SPARK_KEY, "data"),
        prevent_initial_call=True,
    )
    def render_table(snapshot, sort, text, status, selected, previous_key):
        snapshot = snapshot or {}
        view = table_view(
            snapshot, frame_for_sparks, sort, text, status, request_tz(), previous_key, core.monitor.interval
        )
        rows = table_rows(view["rows"], selected, snapshot.get("sweep"))
        if view["figure"] is None:
            return rows, no_update, no_update, no_update, view["count_text"]
        return rows, view["figure"], spark_style(len(view["order"])), view["key"], view["count_text"]
