"""The first paint: everything the page shows, computed once per page load (dash_app/dashboard.py)."""

from __future__ import annotations

from datetime import tzinfo
from urllib.parse import quote

from flask import has_request_context, session

from callbacks.common import clock
from callbacks.header import clock_data, overall_from
from callbacks.recovery import log_views
from callbacks.summary import SweepP95, core_summary
from callbacks.table import DEFAULT_SORT
from ops.fleet import SEVERITY, fleet_status, severity
from ops.recent_checks import SPARK_POINTS


def initial_view(core, tz: tzinfo, ws_port: int | None = None, p95: SweepP95 | None = None) -> dict:
    """The view model for layouts.page.page_layout() (the table's rows are drawn by the browser)."""
    snapshot = core.monitor.snapshot()
    overall, counts = overall_from(snapshot)
    last = clock(snapshot.get("time"), tz)
    return {
        "snapshot": snapshot,
        "overall": overall,
        "counts": counts,
        "clock": clock_data(snapshot, core.next_sweep(), core.monitor.interval),
        "clock_text": f"Last sweep {last}" if last else "Waiting for the first sweep",
        "summary": core_summary(core, snapshot, p95),
        "count_text": f"{len(snapshot.get('services', []))} services",
        "spark_points": SPARK_POINTS,
        # The browser sorts by the one severity order of ops/fleet.py and draws this many checks.
        "ws_port": ws_port,  # the first connection needs no /api/info round trip
        "table": table_view(len(snapshot.get("services", []))),
        "sort": DEFAULT_SORT,
        "log_entries": log_views(core, tz),
        "account": account_view(core.settings.auth.enabled),
    }


# Up to this many services the browser's table draws every row and asks for all their history at once;
# beyond it, only the rows in view (assets/22_mc_table.js reads it from table_view, as does 30_mc_live.js).
VIRTUAL_MIN = 150
# The rows a tall screen shows first plus the table's overscan (assets/22_mc_table.js OVERSCAN): whose
# sparklines the page's head script asks for before any other script of the page has loaded.
FIRST_VIEW = 64


def table_view(services: int) -> dict:
    """What the browser's table needs besides its columns: severity order, history depth, default sort, VIRTUAL_MIN."""
    return {
        "severity": list(SEVERITY),
        "spark_points": SPARK_POINTS,
        "services": services,
        "sort": dict(DEFAULT_SORT),  # the order before any header, link or control chose one
        "virtual_min": VIRTUAL_MIN,
    }


def status_order(view: dict) -> tuple:
    """The status sort, ascending: worst first, a service needing attention first, then by name, any case.

    The same rule as assets/22_mc_table_order.js (statusKey and its tie by name): change both together."""
    return severity(fleet_status(view)), not view.get("needs_attention"), view["name"].lower()


def first_view_query(snapshot: dict, count: int = FIRST_VIEW) -> str:
    """The /api/sparks query for the rows the table draws first under its default sort (DEFAULT_SORT,
    status ascending: status_order), or "" when the table draws every row and asks for all at once.

    A guess made before the browser has the rows: a row it misses asks for its own when drawn."""
    views = snapshot.get("services") or []
    if len(views) <= VIRTUAL_MIN:
        return ""
    names = [v["name"] for v in sorted(views, key=status_order)[:count]]
    return "&".join([*(f"service={quote(n, safe='')}" for n in names), f"points={SPARK_POINTS}"])


def account_view(auth_enabled: bool) -> dict:
    """Who is looking at the page (the server enforces it; this only shapes the controls)."""
    if not auth_enabled:
        return {"enabled": False}
    if not has_request_context():
        return {"enabled": True, "user": None, "csrf": ""}
    return {"enabled": True, "user": session.get("user"), "csrf": session.get("csrf", "")}
