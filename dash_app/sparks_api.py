"""GET /api/sparks: the last checks of the services the page shows, for its sparklines and heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from dash_app.errors import ApiError
from dash_app.params import int_param
from ops.core import Core
from ops.recent_checks import MAX_POINTS, SPARK_POINTS, spark_since

MAX_SERVICES = 1000  # per request: the page asks for the rows in view, a few dozen at a time


def sparks_blueprint(core: Core) -> Blueprint:
    api = Blueprint("sparks", __name__, url_prefix="/sparks")  # nested in /api

    @api.get("")
    def sparks() -> Response:
        known = core.service_names()
        names = [n for n in request.args.getlist("service") if n != ""] or known
        if len(names) > MAX_SERVICES:
            raise ApiError(400, f"at most {MAX_SERVICES} services per request", {"count": len(names)})
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ApiError(404, "unknown service", {"service": unknown[:20]})
        points = int_param("points", SPARK_POINTS, 1, MAX_POINTS)
        interval_s = core.settings.interval_s
        since = spark_since(interval_s, datetime.now(UTC), points)
        return jsonify(
            {
                "interval_s": interval_s,
                "points": points,
                "fields": ["t_ms", "latency_ms", "status", "error"],
                "services": core.store.spark_points(names, points, since),
            }
        )

    return api
