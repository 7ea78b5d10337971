"""CSV export of the history, as a browser download: every service or the open one, over a window."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import Input, Output, State, dcc
from dash.exceptions import PreventUpdate

from callbacks.charts import window_span
from layouts import ids
from ops.history.export import csv_text
from ops.history.protocol import HistoryStore


def export_filename(service: str | None, window: str | None, now: datetime) -> str:
    scope = service or "all-services"
    return f"health-history_{scope}_{window or '1h'}_{now:%Y%m%dT%H%M%SZ}.csv"


def csv_download(store: HistoryStore, service: str | None, window: str | None, now: datetime | None = None) -> dict:
    """What dcc.Download needs: the CSV text of `service` (None: all) over the window, and a file name."""
    now = now or datetime.now(UTC)
    text = csv_text(store.csv_rows(since=now - window_span(window), service=service))
    return dcc.send_string(text, export_filename(service, window, now), type="text/csv")


def register_callbacks(app, core) -> None:
    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.EXPORT_BUTTON, "n_clicks"),
        State(ids.EXPORT_WINDOW, "value"),
        prevent_initial_call=True,
    )
    def export_all(clicks, window):
        if not clicks:
            raise PreventUpdate
        return csv_download(core.store, None, window)

    @app.callback(
        Output(ids.DOWNLOAD, "data", allow_duplicate=True),
        Input(ids.DETAILS_CSV, "n_clicks"),
        State(ids.SELECTED, "data"),
        State(ids.DETAILS_WINDOW, "value"),
        prevent_initial_call=True,
    )
    def export_service(clicks, name, window):
        if not clicks or not name:
            raise PreventUpdate
        return csv_download(core.store, name, window)
