"""The recovery log panel and the entry list it shares with the service details."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from layouts.common import icon

OUTCOME_STYLE: dict[str, tuple[str, str]] = {
    "running": ("RUNNING", "primary"),
    "recovered": ("RECOVERED", "success"),
    "still_down": ("STILL DOWN", "danger"),
    "action_failed": ("FAILED", "danger"),
    "timed_out": ("TIMED OUT", "warning"),
    "skipped": ("SKIPPED", "secondary"),
}


def outcome_badge(outcome: str) -> html.Span:
    text, colour = OUTCOME_STYLE.get(outcome, (outcome.upper().replace("_", " "), "secondary"))
    return html.Span(text, className=f"badge text-bg-{colour}", **{"data-outcome": outcome})


def detail_cell(entry: dict) -> html.Div:
    """Why, on one line: the reason shrinks (ellipsis) before the facts do; hovering shows it all."""
    reason, facts = entry["reason"], entry["facts"]
    parts = [html.Span(reason, className="text-truncate mc-log-reason")] if reason else []
    if facts:
        parts.append(html.Span(f"· {facts}" if reason else facts, className="text-nowrap flex-shrink-0"))
    return html.Div(
        parts,
        title=entry["detail_title"],
        className="d-flex gap-1 mc-log-detail",
        style={"maxWidth": "32rem"},
    )


def entry_list(entries: list[dict], show_service: bool = True, empty: str = "No recovery attempts yet.") -> html.Div:
    """Entries (already normalised by callbacks.recovery.row_view), newest first."""
    if not entries:
        return html.Div(empty, className="text-body-secondary small py-2 mc-log-empty")
    head = ["Time", *(["Service"] if show_service else []), "Trigger", "Action", "Outcome", "Detail"]
    rows = []
    for e in entries:
        cells = [html.Td(e["time_text"], className="mc-num text-nowrap", title=e.get("time_iso") or None)]
        if show_service:
            cells.append(html.Td(e["service"], className="text-nowrap"))
        cells += [
            html.Td(e["trigger"]),
            html.Td(e["action"], className="text-nowrap"),
            html.Td(outcome_badge(e["outcome"])),
            html.Td(detail_cell(e), className="mc-detail-text small"),
        ]
        rows.append(html.Tr(cells, key=e["key"], **{"data-entry": e["key"]}))
    return html.Div(
        html.Table(
            [html.Thead(html.Tr([html.Th(h, scope="col") for h in head])), html.Tbody(rows)],
            className="table table-sm align-middle mb-0 mc-log-table mc-small-table",
        ),
        className="table-responsive",
    )


def clear_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Clear the recovery log?")),
            dbc.ModalBody("Every recorded attempt is deleted, in memory and on disk. This cannot be undone."),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id=ids.CLEAR_CANCEL, color="secondary", outline=True),
                    dbc.Button([icon("trash"), " Clear log"], id=ids.CLEAR_CONFIRM, color="danger"),
                ]
            ),
        ],
        id=ids.CLEAR_MODAL,
        is_open=False,
        centered=True,
    )


def recovery_panel(entries: list[dict], read_only: bool = False) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H2([icon("recovering"), " Recovery log"], className="h6 card-title mb-0 me-auto"),
                        html.Span(id=ids.LOG_RESULT, className="small text-body-secondary", role="status"),
                        dbc.Button(
                            [icon("trash"), " Clear"],
                            id=ids.LOG_CLEAR,
                            size="sm",
                            color="danger",
                            outline=True,
                            title="Delete every entry (asks first)",
                            disabled=read_only,
                        ),
                    ],
                    className="d-flex align-items-center gap-2 mb-2",
                ),
                # Scrolls on its own: focusable, so the keyboard can scroll it too.
                html.Div(
                    entry_list(entries),
                    id=ids.LOG_BODY,
                    className="mc-log",
                    tabIndex="0",
                    role="region",
                    **{"aria-label": "Recovery log entries"},
                ),
                clear_modal(),
            ]
        ),
        className="mc-panel mb-3",
    )
