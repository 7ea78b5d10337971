"""The service details drawer: probe, last error, zoomable chart, recent checks, recoveries, actions."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.common import NO_VALUE, flag_badges, fmt_ms, icon, status_badge
from layouts.recovery import entry_list
from layouts.table import WINDOWS

CHART_CONFIG = {
    "displaylogo": False,
    "scrollZoom": False,
    "modeBarButtonsToRemove": [
        "select2d",
        "lasso2d",
        "autoScale2d",
        "toImage",
        "hoverClosestCartesian",
        "hoverCompareCartesian",
        "toggleSpikelines",
    ],
}
MAINT_DURATIONS = (("1800", "30 min"), ("3600", "1 h"), ("14400", "4 h"), ("0", "until I end it"))


def maintenance_label(active: bool) -> list:
    """The maintenance button says what a click does (a button, not a switch the server writes back:
    an echo of an older snapshot must never undo the operator's click)."""
    return [icon("maintenance"), " End maintenance" if active else " Start maintenance"]


def details_title(name: str, status: str, flags: dict) -> list:
    return [
        html.Span(name, className="me-2 text-break"),
        status_badge(status),
        *flag_badges(
            flags.get("maintenance"), flags.get("recovering"), flags.get("needs_attention"), flags.get("flapping")
        ),
    ]


def probe_info(items: list[tuple[str, str | tuple[str, str]]]) -> html.Dl:
    """(label, value) pairs as a compact definition list; a value may be (text, title shown on hover)."""
    children = []
    for label, value in items:
        text, title = value if isinstance(value, tuple) else (value, None)
        dd = html.Dd(text, className="col-7 col-sm-8 text-break", title=title or None)
        children += [html.Dt(label, className="col-5 col-sm-4"), dd]
    return html.Dl(children, className="row small mb-0 mc-probe")


def last_error(error: str | None, failing: bool) -> html.Div:
    """The current failure (alarming) or the last one seen before (for the record)."""
    if not error:
        return html.Div([icon("up", "text-success"), " No error recorded."], className="small text-body-secondary")
    if failing:
        return dbc.Alert([html.Strong("Failing now: "), error], color="danger", className="py-2 px-3 mb-0 small")
    return html.Div(
        [html.Strong("Last error: "), error, " (recovered since)"], className="small text-body-secondary mc-last-error"
    )


ERROR_COLUMN = "d-none d-md-table-cell"  # a phone shows the error under the status: five columns do not fit


def recent_checks(rows: list[dict]) -> html.Div:
    """The last checks of one service, newest first."""
    if not rows:
        return html.Div("No checks in the history yet.", className="text-body-secondary small")
    body = [
        html.Tr(
            [
                html.Td(r["time_text"], className="mc-num text-nowrap", title=r.get("time_iso") or None),
                html.Td(
                    [
                        status_badge(r["status"]),
                        html.Div(r.get("error") or "", className="d-md-none small mc-check-error"),
                    ]
                ),
                html.Td(fmt_ms(r.get("latency_ms")), className="text-end mc-num"),
                html.Td(NO_VALUE if r.get("http_status") is None else str(r["http_status"]), className="text-end"),
                html.Td(r.get("error") or "", className=f"small mc-detail-text {ERROR_COLUMN}"),
            ],
            key=r["key"],
        )
        for r in rows
    ]
    head = html.Thead(
        html.Tr(
            [html.Th(h, scope="col") for h in ("Time", "Status", "Latency", "HTTP")]
            + [html.Th("Error", scope="col", className=ERROR_COLUMN)]
        )
    )
    return html.Div(
        html.Table([head, html.Tbody(body)], className="table table-sm align-middle mb-0 mc-small-table"),
        className="table-responsive",
    )


def recovery_history(entries: list[dict]) -> html.Div:
    return entry_list(entries, show_service=False, empty="No recovery attempts for this service.")


def recover_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Recover this service now?")),
            dbc.ModalBody(
                [
                    html.P(id=ids.RECOVER_MODAL_BODY),
                    dbc.Checkbox(
                        id=ids.RECOVER_FORCE,
                        value=False,
                        label="Force: try even if automatic recovery has given up (circuit open)",
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id=ids.RECOVER_CANCEL, color="secondary", outline=True),
                    dbc.Button([icon("recovering"), " Recover now"], id=ids.RECOVER_CONFIRM, color="danger"),
                ]
            ),
        ],
        id=ids.RECOVER_MODAL,
        is_open=False,
        centered=True,
    )


def _actions(read_only: bool) -> html.Div:
    return html.Div(
        [
            dbc.Button(
                [icon("refresh"), " Check now"], id=ids.DETAILS_CHECK, size="sm", color="primary", disabled=read_only
            ),
            dbc.Button(
                [icon("recovering"), " Recover now…"],
                id=ids.DETAILS_RECOVER,
                size="sm",
                color="danger",
                outline=True,
                disabled=read_only,
            ),
            dbc.Button(
                [icon("download"), " CSV"],
                id=ids.DETAILS_CSV,
                size="sm",
                color="secondary",
                outline=True,
                title="Download this service's history in the selected window",
            ),
            html.Div(
                [
                    dbc.Button(
                        maintenance_label(False),
                        id=ids.MAINT_SWITCH,
                        size="sm",
                        color="primary",
                        outline=True,
                        disabled=read_only,
                    ),
                    html.Label("for", htmlFor=ids.MAINT_DURATION, className="small text-body-secondary"),
                    dbc.Select(
                        id=ids.MAINT_DURATION,
                        size="sm",
                        value="3600",
                        className="mc-maint-duration",
                        options=[{"label": t, "value": v} for v, t in MAINT_DURATIONS],
                    ),
                ],
                className="d-flex align-items-center gap-2",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-2",
    )


def _section(title: str, child_id: str) -> html.Section:
    return html.Section([html.H3(title, className="h6 mt-3 mb-2"), html.Div(id=child_id)])


def details_panel(read_only: bool = False) -> dbc.Offcanvas:
    """The drawer; callbacks fill its parts when a row is opened and on every sweep."""
    window = dbc.RadioItems(
        id=ids.DETAILS_WINDOW,
        options=[{"label": t, "value": v} for v, t in WINDOWS],
        value="1h",
        className="btn-group btn-group-sm mc-window",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-secondary",
        labelCheckedClassName="active",
    )
    return dbc.Offcanvas(
        [
            _actions(read_only),
            html.Div(id=ids.DETAILS_RESULT, role="status", **{"aria-live": "polite"}),
            html.Div(id=ids.DETAILS_ERROR, className="mb-2"),
            html.Div(
                [html.H3("Latency and status", className="h6 mb-0 me-auto"), window],
                # Wraps: on a phone the window buttons go below the heading rather than off the sheet.
                className="d-flex flex-wrap align-items-center gap-2 mt-2 mc-chart-head",
            ),
            dcc.Graph(
                id=ids.DETAILS_CHART,
                config=CHART_CONFIG,
                className="mc-detail-chart",
                figure={"data": [], "layout": {"height": 360}},
            ),
            _section("Probe", ids.DETAILS_PROBE),
            _section("Recent checks", ids.DETAILS_CHECKS),
            _section("Recovery history", ids.DETAILS_RECOVERIES),
            recover_modal(),
        ],
        id=ids.DETAILS,
        title=html.Div(id=ids.DETAILS_TITLE, className="d-flex flex-wrap align-items-center gap-1"),
        placement="end",
        is_open=False,
        scrollable=True,
        labelledby=ids.DETAILS_TITLE,  # the dialog's accessible name: the service and its status
        className="mc-details",
    )


def result_alert(text: str, colour: str = "success", data: dict | None = None) -> html.Div:
    """The outcome of an action the operator started from the drawer."""
    alert = dbc.Alert(text, color=colour, className="py-2 px-3 small mb-2", dismissable=True)
    return html.Div(alert, className="mc-action-result", **{f"data-{k}": v for k, v in (data or {}).items()})
