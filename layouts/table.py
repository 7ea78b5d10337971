"""The health table: a plain HTML table plus ONE plotly figure holding every row's sparkline.

One figure for all rows paints ~0.4 s sooner than one graph per row (50 plotly instances); it lies
over the table's last column, each trace in its own band, so the geometry below must match the CSS.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.common import flag_badges, fmt_ms, fmt_pct, icon, status_badge, status_text, uptime_class

ROW_HEIGHT = 44  # px, every body row (assets/10_mission_control.css: --mc-row-h)
HEAD_HEIGHT = 40  # px, the header row (--mc-head-h)

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
SPARK_CONFIG = {"displayModeBar": False, "scrollZoom": False, "doubleClick": False, "showTips": False}


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
    cells.append(html.Th(f"Latency, last {spark_points} checks", scope="col", className="mc-spark-cell"))
    return html.Thead(html.Tr(cells))


VALUE_COLUMNS = ("latency", "uptime_1h", "uptime_24h", "uptime_7d", "failures", "last_checked")
_COLUMN_CSS = {key: css for key, _, css in COLUMNS}


def row_class(selected: bool) -> str:
    return "mc-row table-active" if selected else "mc-row"


def cell_view(row: dict, col: str) -> tuple[str, str, str]:
    """(text, class, title) of one value cell; live updates send exactly these (no re-mount)."""
    base = f"{_COLUMN_CSS[col]} mc-num".strip()
    if col == "latency":
        error = row.get("error")
        if error:  # a failed check has no latency: say what failed instead
            return error, f"{base} text-danger-emphasis mc-latency-error", error
        return fmt_ms(row.get("latency_ms")), base, ""
    if col.startswith("uptime_"):
        value = row.get(col)
        return fmt_pct(value), f"{base} {uptime_class(value)}".strip(), ""
    if col == "failures":
        return str(row.get("failures", 0)), base, ""
    return row.get("last_checked_text") or "—", base, row.get("last_checked_iso") or ""


def unknown_badge(status: str) -> html.Span:
    """Shown instead of the status badge while the page has no live data (CSS on .mc-stale)."""
    return html.Span(
        "UNKNOWN", className="badge text-bg-secondary mc-badge-unknown", title=f"last known: {status_text(status)}"
    )


def table_row(row: dict, selected: bool, sweep: int | None) -> html.Tr:
    """One service. Live updates re-render the rows (Dash mounts them anew: one children update is far
    cheaper for its renderer than ~1000 in-place prop updates); assets/mission_control.js puts the
    keyboard focus back on the same row's button."""
    name = row["name"]
    flags = (row.get("maintenance"), row.get("recovering"), row.get("needs_attention"), row.get("flapping"))
    cells = [
        # A real button, so the row opens from the keyboard; assets/mission_control.js turns any click
        # on the row into OPEN_REQUEST (no pattern-matching input: 50 of those cost a round trip per update).
        html.Td(
            html.Button(name, type="button", className="mc-row-open", title=f"{name}: {row.get('target') or ''}"),
            className="mc-name",
        ),
        html.Td(
            [status_badge(row["status"]), *flag_badges(*flags), unknown_badge(row["status"])], className="mc-status"
        ),
    ]
    for col in VALUE_COLUMNS:
        text, css, title = cell_view(row, col)
        cells.append(html.Td(text, className=css, title=title))
    cells.append(html.Td(className="mc-spark-cell"))
    return html.Tr(
        cells,
        key=name,
        className=row_class(selected),
        **{"data-service": name, "data-status": row["status"], "data-sweep": sweep if sweep is not None else ""},
    )


def table_rows(rows: list[dict], selected: str | None, sweep: int | None) -> list[html.Tr]:
    if not rows:
        return [
            html.Tr(
                html.Td(
                    "No service matches the filter.",
                    colSpan=len(COLUMNS) + 1,
                    className="text-center text-body-secondary py-3",
                ),
                className="mc-empty",
            )
        ]
    return [table_row(row, row["name"] == selected, sweep) for row in rows]


def spark_style(count: int) -> dict:
    return {"height": f"{max(count, 0) * ROW_HEIGHT}px", "display": "block" if count else "none"}


def table_toolbar(filter_text: str, status_filter: str, count_text: str) -> html.Div:
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


def health_table(
    rows: list[dict],
    sort: dict,
    selected: str | None,
    sweep: int | None,
    figure: dict,
    count_text: str,
    spark_points: int,
) -> dbc.Card:
    """The card with toolbar, table and the sparkline overlay."""
    table = html.Table(
        [table_head(sort, spark_points), html.Tbody(table_rows(rows, selected, sweep), id=ids.TABLE_BODY)],
        className="table table-hover align-middle mb-0 mc-table",
    )
    overlay = html.Div(
        dcc.Graph(
            id=ids.SPARK_GRAPH, figure=figure, config=SPARK_CONFIG, style=spark_style(len(rows)), responsive=True
        ),
        id=ids.SPARK_BOX,
        className="mc-spark-box",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Services", className="h6 card-title mb-2"),
                table_toolbar("", "all", count_text),
                html.Div(html.Div([table, overlay], className="mc-table-wrap"), className="mc-table-scroll"),
            ]
        ),
        className="mc-panel mb-3",
    )
