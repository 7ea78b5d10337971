"""Service details: open on a row, chart and panel on every update, Check now / Recover now / maintenance."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo

from dash import ClientsideFunction, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.charts import chart_points, detail_figure
from callbacks.common import clock, iso_local, request_tz
from callbacks.recovery import log_views
from layouts import ids
from layouts.common import fmt_ms, fmt_pct
from layouts.details import (
    details_title,
    last_error,
    maintenance_label,
    probe_info,
    recent_checks,
    recovery_history,
)
from ops.history.rows import CheckRow
from ops.stats import REPORT_WINDOWS

log = logging.getLogger(__name__)

RECENT_CHECKS = 10
LONG_WINDOWS = ("30d", "90d")


def view_of(snapshot: dict, name: str) -> dict:
    return next((s for s in snapshot.get("services", []) if s.get("name") == name), {})


def _expected(service) -> str:
    codes = ", ".join(f"{r.low}" if r.low == r.high else f"{r.low}–{r.high}" for r in service.expected_status)
    body = f", body contains “{service.expect_body}”" if service.expect_body else ""
    return f"HTTP {codes}{body}"


def probe_items(service, view: dict, interval_s: float, tz: tzinfo) -> list[tuple[str, str]]:
    """What is probed and when it counts as degraded, down and up again."""
    kinds = {
        "http": f"HTTP {service.method}",
        "tcp": "TCP connect",
        "postgres": f"PostgreSQL login + SELECT 1 (${service.dsn_env})",
    }
    kind = kinds.get(service.type, service.type)
    items = [("Probe", kind), ("Target", service.target)]
    if service.type == "http":
        items.append(("Expects", _expected(service)))
    items += [
        ("Timeout", f"{service.timeout_s:g} s"),
        ("Degraded above", fmt_ms(service.degraded_latency_ms) if service.degraded_latency_ms else "not set"),
        ("Down after", f"{service.failure_threshold} failed checks in a row"),
        ("Up again after", f"{service.success_threshold} good check(s)"),
        ("Checked every", f"{interval_s:g} s"),
        (
            "Status since",
            (clock(view.get("last_change"), tz, with_date=True) or "—", iso_local(view.get("last_change"), tz)),
        ),
    ]
    recovery = service.recovery
    # The engine's live switch (global and per service), not the config: it can be turned off at run time.
    auto = view.get("auto_recovery", recovery.auto)
    action = "none" if recovery.action == "none" else f"{recovery.action} ({'automatic' if auto else 'manual'})"
    items.append(("Recovery", action))
    if view.get("recovery_attempts") is not None:
        items.append(("Recent attempts", str(view["recovery_attempts"])))
    if service.tags:
        items.append(("Tags", ", ".join(service.tags)))
    return items


def long_uptime(store, name: str, now: datetime) -> list[tuple[str, str]]:
    """Uptime over 30 and 90 days (the table shows 1 h to 7 d) of the checks stored in them, read
    from the store's rollups; a window longer than the store keeps is left out (it holds no checks
    that old, so the figure would cover less than its label says)."""
    labels = [label for label in LONG_WINDOWS if REPORT_WINDOWS[label] <= store.retention]
    if not labels:
        return []
    figures = store.uptime({label: REPORT_WINDOWS[label] for label in labels}, now, name).get(name, {})
    return [("Uptime", " · ".join(f"{label[:-1]} d {fmt_pct(figures.get(label))}" for label in labels))]


def check_rows(checks: list[CheckRow], tz: tzinfo, limit: int = RECENT_CHECKS) -> list[dict]:
    """The last `limit` checks of one service, newest first."""
    rows = []
    for check in reversed(checks[-limit:]):
        rows.append(
            {
                **check.as_dict(),  # a failed check has no latency
                "key": check.ts.isoformat(),
                "time_text": clock(check.ts, tz),
                "time_iso": iso_local(check.ts, tz),
            }
        )
    return rows


def chart_for(core, name: str, window: str, tz: tzinfo, sweep: int | None) -> dict:
    now = datetime.now(UTC)
    points = chart_points(core.store, name, window, now)
    return detail_figure(name, points, window, now, tz, sweep, core.monitor.interval)


def data_patch(figure: dict) -> Patch:
    """A live update of an open chart: new traces, the browser's layout kept as it is.

    dcc.Graph copies a zoom into its figure prop, and a whole new figure would then reset it even
    under the same uirevision; patching only data and meta leaves the operator's zoom alone.
    """
    patch = Patch()
    patch["data"] = figure["data"]
    patch["layout"]["meta"] = figure["layout"]["meta"]
    return patch


def last_checks(core, name: str) -> list[CheckRow]:
    """The service's last RECENT_CHECKS checks, if they are recent (a late sweep or two is no gap)."""
    since = datetime.now(UTC) - timedelta(seconds=max(core.settings.interval_s, 0.2) * RECENT_CHECKS * 3 + 60)
    return core.store.recent_checks(service=name, since=since, per_service=RECENT_CHECKS)


def register_callbacks(app, core) -> None:
    @app.callback(
        Output(ids.SELECTED, "data"),
        Output(ids.DETAILS, "is_open"),
        Input(ids.OPEN_REQUEST, "data"),
        Input(ids.DETAILS, "is_open"),
        prevent_initial_call=True,
    )
    def open_details(request, is_open):
        trigger = ctx.triggered_id
        if trigger == ids.OPEN_REQUEST and request and request.get("name"):
            return request["name"], True
        if trigger == ids.DETAILS and not is_open:
            return "", no_update
        raise PreventUpdate

    # Gates in the browser: the drawer's server callbacks only hear of updates while it is open.
    app.clientside_callback(
        ClientsideFunction("mc", "detailView"),
        Output(ids.DETAIL_VIEW, "data"),
        Input(ids.LIVE, "data"),
        Input(ids.SELECTED, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("mc", "detailTick"),
        Output(ids.DETAIL_TICK, "data"),
        Input(ids.TICK, "data"),
        State(ids.SELECTED, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.DETAILS_CHART, "figure"),
        Output(ids.CHART_KEY, "data"),
        Input(ids.SELECTED, "data"),
        Input(ids.DETAILS_WINDOW, "value"),
        Input(ids.DETAIL_TICK, "data"),
        State(ids.CHART_KEY, "data"),
        prevent_initial_call=True,
    )
    def render_chart(name, window, tick, shown):
        if not name:
            raise PreventUpdate
        figure = chart_for(core, name, window, request_tz(), (tick or {}).get("sweep"))
        key = f"{name}|{window}"
        # A patch only onto the very chart it continues (a whole figure may still be on its way).
        if shown == key and {t["prop_id"].split(".")[0] for t in ctx.triggered} == {ids.DETAIL_TICK}:
            return data_patch(figure), no_update
        return figure, key

    @app.callback(
        Output(ids.DETAILS_TITLE, "children"),
        Output(ids.DETAILS_ERROR, "children"),
        Output(ids.DETAILS_PROBE, "children"),
        Output(ids.DETAILS_CHECKS, "children"),
        Output(ids.DETAILS_RECOVERIES, "children"),
        Output(ids.MAINT_SWITCH, "children"),
        Output(ids.MAINT_SWITCH, "disabled"),
        Output(ids.DETAILS_RECOVER, "disabled"),
        Output(ids.DETAILS_RESULT, "children"),
        Input(ids.DETAIL_VIEW, "data"),
        Input(ids.RECOVERY_EVENT, "data"),
        State(ids.SELECTED, "data"),
        State(ids.LIVE_CONFIG, "data"),
        prevent_initial_call=True,
    )
    def render_panel(feed, _event, name, config):
        service = core.settings.service(name) if name else None
        if service is None or not feed or feed.get("name") != name:
            raise PreventUpdate
        tz, now = request_tz(), datetime.now(UTC)
        view = feed.get("view") or {}
        read_only = bool((config or {}).get("read_only"))  # the same rule as the layout's (layouts.common)
        no_action = name not in core.recovery  # action "none": nothing to run, so nothing to offer
        return (
            details_title(name, view.get("status", "pending"), view),
            last_error(view.get("error") or view.get("last_error"), bool(view.get("error"))),
            probe_info(probe_items(service, view, core.monitor.interval, tz) + long_uptime(core.store, name, now)),
            recent_checks(check_rows(last_checks(core, name), tz)),
            recovery_history(log_views(core, tz, service=name, limit=10)),
            maintenance_label(bool(view.get("maintenance"))),
            read_only,
            read_only or no_action,
            [] if feed.get("opened") else no_update,
        )
