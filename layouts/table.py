"""The health table's frame: toolbar, header row and an empty body the browser fills (22_mc_table.js).

The rows, their sparklines and heartbeat strips are drawn in the browser from the live data: a
result patches its one row in the same frame (no server round trip), and only rows in view exist.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from layouts.common import FLAGS, STATUS_STYLE, icon

ROW_HEIGHT = 44  # px, every body row (assets/10_mission_control.css: --mc-row-h)

# key, header text, classes that hide the column on narrow screens
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "Service", ""),
    ("status", "Status", ""),
    ("latency", "Latency", "text-end"),
    ("uptime_1h", "Up 1 h", "text-end d-none d-lg-table-cell"),
    ("uptime_24h", "Up 24 h", "text-end d-none d-sm-table-cell"),
    ("uptime_7d", "Up 7 d", "text-end d-none d-md-table-cell"),
    ("failures", "Fails", "text-end d-none d-md-table-cell"),
    ("last_checked", "Checked", "text-end d-none d-xl-table-cell"),
)
STATUS_FILTERS = (
    ("all", "All services"),
    ("problems", "Problems only"),
    ("up", "Up"),
    ("degraded", "Degraded"),
    ("down", "Down"),
    ("pending", "Pending"),
    ("maintenance", "Maintenance"),
)
WINDOWS = (("1h", "1 h"), ("24h", "24 h"), ("7d", "7 d"))


def sort_state(col: str, direction: str, key: str) -> tuple[str, str]:
    """(arrow, aria-sort) for one column header."""
    if col != key:
        return "", "none"
    return ("▲", "ascending") if direction == "asc" else ("▼", "descending")


def sort_label(key: str, label: str, sort: dict) -> list:
    """A header button's children: its text and the arrow of the current sort."""
    arrow, _ = sort_state(sort.get("col"), sort.get("dir"), key)
    return [label, html.Span(arrow, className="mc-sort-arrow", **{"aria-hidden": "true"})]


def sort_button(key: str, label: str, sort: dict) -> html.Button:
    return html.Button(
        sort_label(key, label, sort),
        id={"type": ids.SORT_BUTTON, "col": key},
        className="mc-sort",
        title=f"Sort by {label}",
    )


def table_head(sort: dict, spark_points: int) -> html.Thead:
    cells = [
        html.Th(
            sort_button(key, label, sort),
            id={"type": ids.SORT_HEADER, "col": key},
            scope="col",
            className=css,
            **{"aria-sort": sort_state(sort.get("col"), sort.get("dir"), key)[1]},
        )
        for key, label, css in COLUMNS
    ]
    cells.append(html.Th(f"Latency and status, last {spark_points} checks", scope="col", className="mc-spark-cell"))
    return html.Thead(html.Tr(cells))


VALUE_COLUMNS = ("latency", "uptime_1h", "uptime_24h", "uptime_7d", "failures", "last_checked")
SORT_CHOICES = (  # the phone's sort control (the header row is hidden there)
    ("status.asc", "Worst first"),
    ("name.asc", "Name A–Z"),
    ("latency.desc", "Slowest first"),
    ("uptime_24h.asc", "Lowest 24 h uptime"),
)


def table_config() -> dict:
    """What assets/22_mc_table.js needs to draw rows as the server would: columns, classes, badges."""
    return {
        "columns": [{"key": key, "css": css} for key, _, css in COLUMNS],
        "value_columns": list(VALUE_COLUMNS),
        "status_style": {s: list(v) for s, v in STATUS_STYLE.items()},
        "flags": [list(flag) for flag in FLAGS],
        "row_height": ROW_HEIGHT,
        "empty_text": "No service matches the filter.",
        # What a deep link may say (assets/31_mc_page.js fromUrl): anything else means the default.
        "status_filters": [value for value, _ in STATUS_FILTERS],
        "windows": [value for value, _ in WINDOWS],
    }


def sort_value(sort: dict) -> str:
    return f"{sort.get('col', 'status')}.{sort.get('dir', 'asc')}"


def sort_options(sort: dict) -> list[dict]:
    """The phone's choices, plus the current sort when it is none of them (set by a header or a link),
    named by its column and direction, so the control always shows the true sort."""
    options = [{"label": t, "value": v} for v, t in SORT_CHOICES]
    current = sort_value(sort)
    if current not in {v for v, _ in SORT_CHOICES}:
        title = {key: text for key, text, _ in COLUMNS}.get(sort.get("col"), sort.get("col"))
        way = "descending" if sort.get("dir") == "desc" else "ascending"
        options.append({"label": f"{title}, {way}", "value": current})
    return options


def phone_sort(sort: dict) -> html.Div:
    """A sort control for phones; on wider screens the column headers sort."""
    options = sort_options(sort)
    return html.Div(
        [
            html.Label("Sort services", htmlFor=ids.SORT_SELECT, className="visually-hidden"),
            dbc.Select(id=ids.SORT_SELECT, options=options, value=sort_value(sort), size="sm"),
        ],
        className="mc-sort-select d-md-none",
    )


def table_toolbar(filter_text: str, status_filter: str, count_text: str, sort: dict) -> html.Div:
    return html.Div(
        [
            html.Label("Filter services", htmlFor=ids.FILTER_TEXT, className="visually-hidden"),
            dbc.InputGroup(
                [
                    dbc.InputGroupText(icon("filter")),
                    dbc.Input(
                        id=ids.FILTER_TEXT,
                        type="search",
                        value=filter_text,
                        debounce=0.25,
                        placeholder="Filter by name, target or tag",
                    ),
                ],
                size="sm",
                className="mc-filter",
            ),
            html.Label("Show services by status", htmlFor=ids.STATUS_FILTER, className="visually-hidden"),
            dbc.Select(
                id=ids.STATUS_FILTER,
                options=[{"label": t, "value": v} for v, t in STATUS_FILTERS],
                value=status_filter,
                size="sm",
                className="mc-status-filter",
            ),
            phone_sort(sort),
            html.Span(
                count_text, id=ids.TABLE_COUNT, className="text-body-secondary small me-auto", **{"aria-live": "polite"}
            ),
            html.Label("Export window", htmlFor=ids.EXPORT_WINDOW, className="visually-hidden"),
            dbc.Select(
                id=ids.EXPORT_WINDOW,
                options=[{"label": f"Last {t}", "value": v} for v, t in WINDOWS],
                value="24h",
                size="sm",
                className="mc-export-window",
            ),
            dbc.Button(
                [icon("download"), " CSV"],
                id=ids.EXPORT_BUTTON,
                size="sm",
                color="secondary",
                outline=True,
                title="Download the history of every service in this window as CSV",
            ),
        ],
        className="mc-toolbar d-flex flex-wrap align-items-center gap-2 mb-2",
    )


def health_table(sort: dict, count_text: str, spark_points: int) -> dbc.Card:
    """The card with toolbar and table. The rows are drawn by the browser (assets/22_mc_table.js): it
    patches one row per live result in place and draws only the rows in view, so neither the layout
    nor a live update carries a row the page does not show."""
    table = html.Table(
        [table_head(sort, spark_points), html.Tbody(id=ids.TABLE_BODY)],
        id=ids.TABLE,
        className="table table-hover align-middle mb-0 mc-table",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Services", className="h6 card-title mb-2"),
                table_toolbar("", "all", count_text, sort),
                html.Div(html.Div(table, className="mc-table-wrap"), className="mc-table-scroll"),
            ]
        ),
        className="mc-panel mb-3",
    )
