"""GET /api/notifications (targets, counts, the delivery log) and POST /api/notifications/test."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from dash_app.errors import ApiError
from dash_app.params import int_param, json_body
from ops.core import Core
from ops.notify import UnknownTarget
from ops.notify.notifier import entry_of

MAX_WAIT_S = 30.0
LOG_MAX = 5000


def _wait_field(body: dict) -> float:
    value = body.get("wait_s", 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_WAIT_S:
        raise ApiError(400, f"'wait_s' must be a number of seconds in [0, {MAX_WAIT_S:g}]", {"body": body})
    return float(value)


def notifications_blueprint(core: Core) -> Blueprint:
    """Routes over core.notifier; target URLs never leave it (names and kinds only)."""
    api = Blueprint("notifications", __name__, url_prefix="/notifications")  # nested in /api

    @api.get("")
    def overview() -> Response:
        return jsonify(core.notifier.overview(limit=int_param("limit", 50, 1, LOG_MAX)))

    @api.post("/test")
    def send_test() -> Response:
        body = json_body()
        target = body.get("target")
        if not isinstance(target, str) or not target:
            raise ApiError(400, "'target' must be a target name", {"body": body})
        wait_s = _wait_field(body)
        try:
            delivery = core.notifier.send_test(target)
        except UnknownTarget:
            known = [t["name"] for t in core.notifier.overview(limit=1)["targets"]]
            raise ApiError(404, "unknown target", {"target": target, "targets": known}) from None
        # By default the answer comes at once (202, queued); wait_s waits, bounded, for the outcome.
        finished = wait_s > 0 and delivery.done.wait(wait_s)
        return jsonify(entry_of(delivery)), 200 if finished else 202

    return api
