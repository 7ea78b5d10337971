"""The REST API under /api: a view over the core; only POST /api/health-check makes it probe."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from dash_app.compression import TextBody
from dash_app.errors import ApiError
from dash_app.openapi import openapi_document
from dash_app.params import (
    DEFAULT_SWEEPS,
    MAX_MAINTENANCE_S,
    MAX_ROWS_LIMIT,
    int_param,
    json_body,
    service_param,
    time_param,
)
from ops.core import Core, follower_text
from ops.history.export import csv_text, sweeps_of
from ops.history.rows import CheckRow
from ops.recovery import RecoveryConflict


def _json_text(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="application/json")


def _history_rows(core: Core) -> list[CheckRow]:
    """The history rows the query parameters ask for (shared by JSON and CSV)."""
    service = service_param(core.service_names())
    since = time_param("since")
    default = None if since is not None else DEFAULT_SWEEPS  # a time window alone means all of it
    limit = int_param("limit", default, 1, MAX_ROWS_LIMIT)
    return core.store.recent_checks(service=service, since=since, sweeps=limit)


def api_blueprint(core: Core, ws_port: callable) -> Blueprint:
    """Routes bound to one core; `ws_port()` tells the page where the WebSocket listens."""
    api = Blueprint("api", __name__, url_prefix="/api")
    snapshot_body = TextBody()  # a poller asks many times a sweep: encode (and gzip) each snapshot once

    @api.get("/health")
    def health() -> Response:
        return snapshot_body.response(core.monitor.snapshot_text())

    @api.get("/history")
    def history() -> Response:
        sweeps = sweeps_of(_history_rows(core))
        return jsonify({"count": len(sweeps), "history": sweeps})

    @api.get("/history.csv")
    def history_as_csv() -> Response:
        response = Response(csv_text(_history_rows(core)), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="health_history.csv"'
        return response

    @api.get("/logs")
    def logs() -> Response:
        service = service_param(core.service_names())
        limit = int_param("limit", 50, 1, 5000)
        entries = core.recovery_log.recent(limit=limit, service=service)
        return jsonify({"count": len(entries), "entries": entries})

    @api.delete("/logs")
    def clear_logs() -> Response:
        return jsonify({"cleared": core.recovery_log.clear()})

    @api.get("/metrics")
    def metrics() -> Response:
        return jsonify(core.metrics())

    @api.get("/loop-status")
    def loop_status() -> Response:
        return jsonify({**core.monitor.loop_status(), **core.leader_status()})

    @api.post("/health-check")
    def health_check() -> Response:
        json_body()  # a malformed body is still a 400, even though none is needed
        refusal = core.not_leading()
        if refusal is not None:  # only the leader probes: an old snapshot with a 200 would claim a sweep
            raise ApiError(409, follower_text(refusal["leader"]), refusal)
        timeout = max(s.timeout_s for s in core.settings.services) + 10
        core.monitor.request_sweep(timeout=timeout)
        return _json_text(core.monitor.snapshot_text())

    @api.post("/recovery")
    def recovery() -> Response:
        body = json_body()
        name = body.get("service")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "'service' must be a service name", {"body": body})
        if "force" in body and not isinstance(body["force"], bool):
            raise ApiError(400, "'force' must be true or false")
        if name not in core.service_names():
            raise ApiError(404, "unknown service", {"service": name})
        return core_recover(core, name, bool(body.get("force", False)))

    @api.get("/info")
    def info() -> Response:
        return jsonify({"ws_port": ws_port(), "ws_path": "/ws", "services": core.service_names()})

    @api.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(openapi_document())

    recovery_routes(api, core)
    return api


def core_recover(core: Core, name: str, force: bool) -> Response:
    """Start a manual recovery; the recovery engine decides (202 or 409)."""
    try:
        entry = core.recovery.request_manual(name, force=force)
    except RecoveryConflict as exc:
        raise ApiError(409, exc.message, {"reason": exc.reason, "service": name, **exc.detail}) from None
    return jsonify(entry), 202


def _state_change(change, name: str | None = None) -> Response:
    """Maintenance, switches and resets work on any dashboard: they change the shared state, which the
    leader reads before it acts. Only running an action is the leader's (POST /api/recovery: 409
    naming it on a follower). 503 when the shared database cannot take the change."""
    try:
        return jsonify(change())
    except RecoveryConflict as exc:
        raise ApiError(503, exc.message, {"reason": exc.reason, "service": name, **exc.detail}) from None


def _known_service(core: Core, name: str) -> None:
    if name not in core.service_names():
        raise ApiError(404, "unknown service", {"service": name})


def _bool_field(body: dict, key: str) -> bool:
    if not isinstance(body.get(key), bool):
        raise ApiError(400, f"'{key}' must be true or false", {"body": body})
    return body[key]


def _duration_field(body: dict) -> float | None:
    value = body.get("duration_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_MAINTENANCE_S:
        raise ApiError(400, f"'duration_s' must be a number of seconds in (0, {MAX_MAINTENANCE_S}]", {"body": body})
    return float(value)


def recovery_routes(api: Blueprint, core: Core) -> None:
    """Maintenance, circuit reset, switches and status: all decided by core.recovery, none here."""

    @api.get("/recovery")
    def recovery_overview() -> Response:
        return jsonify(core.recovery.overview())

    @api.post("/recovery/auto")
    def recovery_auto() -> Response:
        body = json_body()
        enabled = _bool_field(body, "enabled")
        name = body.get("service")
        if name is not None and not isinstance(name, str):
            raise ApiError(400, "'service' must be a service name", {"body": body})
        if name is not None:
            _known_service(core, name)
        return _state_change(lambda: core.recovery.set_auto(enabled, name), name)

    @api.get("/services/<name>/recovery")
    def recovery_status(name: str) -> Response:
        _known_service(core, name)
        return jsonify(core.recovery.status(name))

    @api.post("/services/<name>/maintenance")
    def maintenance(name: str) -> Response:
        _known_service(core, name)
        body = json_body()
        enabled, duration = _bool_field(body, "enabled"), _duration_field(body)
        return _state_change(lambda: core.recovery.set_maintenance(name, enabled, duration), name)

    @api.post("/services/<name>/reset")
    def reset_recovery(name: str) -> Response:
        _known_service(core, name)
        json_body()  # a malformed body is still a 400
        return _state_change(lambda: core.recovery.reset(name), name)
