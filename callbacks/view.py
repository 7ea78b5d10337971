"""The first paint: everything the page shows, computed once per page load (dash_app/dashboard.py)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from flask import has_request_context, session

from callbacks.common import clock
from callbacks.header import clock_data, overall_from
from callbacks.recovery import log_views
from callbacks.sparklines import SPARK_POINTS, spark_since
from callbacks.summary import core_summary
from callbacks.table import DEFAULT_SORT, table_view


def initial_view(core, tz: tzinfo) -> dict:
    """The view model for layouts.page.page_layout(): the table is rendered now, not by a callback."""
    snapshot = core.monitor.snapshot()
    now = datetime.now(UTC)
    table = table_view(
        snapshot,
        lambda: core.store.frame(since=spark_since(core.settings.interval_s, now)),
        DEFAULT_SORT,
        "",
        "all",
        tz,
        interval_s=core.monitor.interval,
    )
    overall, counts = overall_from(snapshot)
    last = clock(snapshot.get("time"), tz)
    return {
        "snapshot": snapshot,
        "overall": overall,
        "counts": counts,
        "clock": clock_data(snapshot, core.monitor.next_run, core.monitor.interval),
        "clock_text": f"Last sweep {last}" if last else "Waiting for the first sweep",
        "summary": core_summary(core, snapshot),
        "rows": table["rows"],
        "count_text": table["count_text"],
        "spark_figure": table["figure"],
        "spark_key": table["key"],
        "spark_points": SPARK_POINTS,
        "sort": DEFAULT_SORT,
        "log_entries": log_views(core, tz),
        "account": account_view(core.settings.auth.enabled),
    }


def account_view(auth_enabled: bool) -> dict:
    """Who is looking at the page (the server enforces it; this only shapes the controls)."""
    if not auth_enabled:
        return {"enabled": False}
    if not has_request_context():
        return {"enabled": True, "user": None, "csrf": ""}
    return {"enabled": True, "user": session.get("user"), "csrf": session.get("csrf", "")}
