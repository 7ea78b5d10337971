"""GET /api/uptime: uptime and latency percentiles over windows up to 90 days, read from the store."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from dash_app.errors import ApiError
from dash_app.params import service_param
from ops.core import Core
from ops.stats import REPORT_WINDOWS, uptime_report

DEFAULT_WINDOWS = ("24h", "7d", "30d")  # those the history holds (retention_days)


def uptime_blueprint(core: Core) -> Blueprint:
    api = Blueprint("uptime", __name__, url_prefix="/uptime")  # nested in /api

    @api.get("")
    def uptime() -> Response:
        service = service_param(core.service_names())
        kept = core.store.retention
        asked = _windows(request.args.getlist("window"))
        labels = asked or [label for label in DEFAULT_WINDOWS if REPORT_WINDOWS[label] <= kept]
        too_long = [label for label in labels if REPORT_WINDOWS[label] > kept]
        if too_long:  # the store holds no checks that old: the figure would cover less than it says
            days = core.settings.retention_days
            raise ApiError(
                400,
                f"the history is kept {days:g} days (retention_days): {', '.join(too_long)} is longer",
                {"window": too_long, "retention_days": days},
            )
        names = [service] if service else core.service_names()
        report = uptime_report(core.store, labels, datetime.now(UTC), names, whole_fleet=service is None)
        # Nulls from a store that cannot be read are no figures: say whether it could be.
        return jsonify({**report, "storage": core.store.storage_status()})

    return api


def _windows(raw: list[str]) -> list[str]:
    """The asked windows (repeatable or comma-separated), known ones only, each once, in order;
    none asked: [] (the defaults the history holds)."""
    labels = [part.strip() for value in raw for part in value.split(",") if part.strip()]
    unknown = [label for label in labels if label not in REPORT_WINDOWS]
    if unknown:
        raise ApiError(400, f"window must be one of {', '.join(REPORT_WINDOWS)}", {"window": unknown})
    return list(dict.fromkeys(labels))
