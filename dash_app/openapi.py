"""The OpenAPI 3 document of every /api route, as plain data (served at GET /api/openapi.json)."""

from __future__ import annotations

import copy
from functools import cache

from dash_app.notifications_api import LOG_MAX as NOTIFY_LOG_MAX
from dash_app.notifications_api import MAX_WAIT_S as NOTIFY_MAX_WAIT_S
from dash_app.notifications_openapi import notification_paths
from dash_app.openapi_schemas import SCHEMAS, SPARKS, UPTIME_REPORT, json_response, nullable, obj, ref
from dash_app.params import DEFAULT_SWEEPS, MAX_MAINTENANCE_S, MAX_ROWS_LIMIT
from ops.recent_checks import MAX_POINTS as SPARK_MAX
from ops.recent_checks import SPARK_POINTS
from ops.stats import REPORT_WINDOWS

OPENAPI_VERSION = "3.0.3"
LOGS_DEFAULT, LOGS_MAX = 50, 5000  # as GET /api/logs parses `limit` (dash_app/api.py)


def errors(*codes: int) -> dict:
    """The shared error responses for `codes`, all in the one JSON error shape."""
    return {str(code): {"$ref": f"#/components/responses/{ERROR_RESPONSES[code][0]}"} for code in codes}


ERROR_RESPONSES = {
    400: ("BadRequest", "a bad query parameter or body"),
    404: ("NotFound", "an unknown service (or no such route)"),
    405: ("MethodNotAllowed", "the path exists, the method does not: `Allow` lists the methods"),
    401: ("Unauthorized", "auth is configured and the request has no valid key or session"),
    403: ("Forbidden", "a session request without its CSRF token"),
    409: (
        "Conflict",
        "a recovery cannot start now, or this dashboard follows (`not_leader`, `detail.leader` names the leader"
        " or is null): `detail.reason`",
    ),
    413: ("PayloadTooLarge", "the body is over the server's limit"),
    429: ("TooManyRequests", "over the rate limit for state-changing requests; see `Retry-After`"),
    503: ("ServiceUnavailable", "the shared database (several dashboards) cannot take the change: nothing changed"),
}
# With auth configured (see config/README.md): every change needs a key or a logged-in session (with its
# CSRF token) and is rate-limited; reads need one only with auth.protect_reads. Without auth, none of this.
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
CHANGES = ("post", "put", "patch", "delete")


def _with_auth_errors(paths: dict) -> dict:
    """Add the answers the auth guard may give: 401 to every operation, 403 and 429 to changes."""
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                operation["responses"].update(errors(401, *((403, 429) if method in CHANGES else ())))
    return paths


def _query(name: str, schema: dict, description: str) -> dict:
    """An optional query parameter; sent empty (`?limit=`), it counts as not sent."""
    return {"name": name, "in": "query", "schema": schema, "description": description, "allowEmptyValue": True}


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


SERVICE_QUERY = _query("service", {"type": "string"}, "only this service (unknown: 404)")
SERVICE_PATH = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}, "description": "service"}
ANY_OBJECT = _body({"type": "object", "description": "ignored, but must be a JSON object if sent"}, required=False)


def _history_params(max_rows: int, default_sweeps: int) -> list[dict]:
    return [
        SERVICE_QUERY,
        _query("since", {"type": "string", "format": "date-time"}, "ISO 8601 time; without a zone, UTC"),
        _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": max_rows},
            f"the last N sweeps (default {default_sweeps}; with `since` and no limit, the whole window)",
        ),
    ]


def _op(summary: str, responses: dict, **extra) -> dict:
    return {"summary": summary, "responses": responses, **extra}


def _paths(max_rows: int, default_sweeps: int, max_maintenance_s: int) -> dict:
    history = _history_params(max_rows, default_sweeps)
    snapshot = json_response("the snapshot", ref("Snapshot"))
    status = json_response("the service's recovery status", ref("RecoveryStatus"))
    return {
        "/api/health": {"get": _op("The current snapshot", {"200": snapshot})},
        "/api/history": {
            "get": _op(
                "Stored checks, grouped by sweep",
                {"200": json_response("sweeps", ref("History")), **errors(400, 404)},
                parameters=history,
            )
        },
        "/api/history.csv": {
            "get": _op(
                "The same rows as CSV (header: ts,service,status,latency_ms,http_status,error); "
                "a failed check has an empty latency_ms",
                {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    **errors(400, 404),
                },
                parameters=history,
            )
        },
        "/api/logs": {
            "get": _op(
                "The recovery log, newest first",
                {"200": json_response("entries", ref("Logs")), **errors(400, 404)},
                parameters=[
                    SERVICE_QUERY,
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": LOGS_MAX}, f"default {LOGS_DEFAULT}"),
                ],
            ),
            "delete": _op(
                "Clear the recovery log",
                {"200": json_response("how many entries went", obj({"cleared": {"type": "integer", "minimum": 0}}))},
            ),
        },
        "/api/sparks": {
            "get": _op(
                "The last checks of some services, oldest first: what the page's sparklines start from",
                {"200": json_response("points per service", SPARKS), **errors(400, 404)},
                parameters=[
                    {
                        **_query("service", {"type": "array", "items": {"type": "string"}}, "repeatable; none: all"),
                        "style": "form",
                        "explode": True,
                    },
                    _query(
                        "points", {"type": "integer", "minimum": 1, "maximum": SPARK_MAX}, f"default {SPARK_POINTS}"
                    ),
                ],
            )
        },
        "/api/uptime": {
            "get": _op(
                "Uptime and latency p50/p95 per service over windows up to 90 days (from the history's "
                "rollups beyond the raw checks the store reads quickly, its `memory` (2 h at 1,000 services): "
                "uptime exact from counts to the minute or hour, percentiles within one latency bucket, about 5 %)",
                {"200": json_response("figures per window", UPTIME_REPORT), **errors(400, 404)},
                parameters=[
                    SERVICE_QUERY,
                    {
                        **_query(
                            "window",
                            {"type": "array", "items": {"type": "string", "enum": list(REPORT_WINDOWS)}},
                            "repeatable or comma-separated (default 24h,7d,30d); longer than retention_days: 400",
                        ),
                        "style": "form",
                        "explode": True,
                    },
                ],
            )
        },
        "/api/metrics": {"get": _op("Counters and figures", {"200": json_response("metrics", ref("Metrics"))})},
        "/api/loop-status": {"get": _op("The monitor loop", {"200": json_response("loop", ref("LoopStatus"))})},
        "/api/health-check": {
            "post": _op(
                "Run a sweep now and answer with its snapshot (409 `not_leader` on a follower: the leader probes)",
                {"200": snapshot, **errors(400, 409, 413)},
                requestBody=ANY_OBJECT,
            )
        },
        "/api/recovery": {
            "get": _op(
                "Global switches and every service's recovery status",
                {"200": json_response("overview", ref("RecoveryOverview"))},
            ),
            "post": _op(
                "Start a manual recovery (it runs in the background; the log entry says how it ends)",
                {
                    "202": json_response("started", ref("LogEntry")),
                    **errors(400, 404, 409, 413),
                },
                requestBody=_body(
                    obj(
                        {"service": {"type": "string", "minLength": 1}, "force": {"type": "boolean"}},
                        required=("service",),
                    )
                ),
            ),
        },
        "/api/recovery/auto": {
            "post": _op(
                "Automatic recovery on or off, for all services or one (runtime only; shared by every dashboard"
                " of one PostgreSQL)",
                {
                    "200": json_response(
                        "the overview, or the one service's status",
                        {"oneOf": [ref("RecoveryOverview"), ref("RecoveryStatus")]},
                    ),
                    **errors(400, 404, 413, 503),
                },
                requestBody=_body(
                    obj({"enabled": {"type": "boolean"}, "service": nullable("string")}, required=("enabled",))
                ),
            )
        },
        "/api/info": {"get": _op("Where the WebSocket listens", {"200": json_response("info", ref("Info"))})},
        "/api/services/{name}/recovery": {
            "parameters": [SERVICE_PATH],
            "get": _op("One service's recovery status", {"200": status, **errors(404)}),
        },
        "/api/services/{name}/maintenance": {
            "parameters": [SERVICE_PATH],
            "post": _op(
                "Maintenance on (optionally for duration_s) or off",
                {"200": status, **errors(400, 404, 413, 503)},
                requestBody=_body(
                    obj(
                        {
                            "enabled": {"type": "boolean"},
                            "duration_s": nullable(
                                "number", minimum=0, exclusiveMinimum=True, maximum=max_maintenance_s
                            ),
                        },
                        required=("enabled",),
                    )
                ),
            ),
        },
        "/api/services/{name}/reset": {
            "parameters": [SERVICE_PATH],
            "post": _op(
                "Close the circuit, forget attempts and backoff",
                {"200": status, **errors(400, 404, 413, 503)},
                requestBody=ANY_OBJECT,
            ),
        },
        **notification_paths(NOTIFY_LOG_MAX, NOTIFY_MAX_WAIT_S),
        "/api/openapi.json": {
            "get": _op("This document", {"200": json_response("OpenAPI 3", {"type": "object"})}),
        },
    }


@cache
def _document() -> dict:
    responses = {name: json_response(text, ref("Error")) for name, text in ERROR_RESPONSES.values()}
    responses["MethodNotAllowed"]["headers"] = {"Allow": {"schema": {"type": "string"}}}
    responses["TooManyRequests"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Mission Control API",
            "version": "1",
            "description": (
                "Health, history and recovery of a small fleet of HTTP/TCP services. Every error is "
                '`{"error": "...", "detail": ...}`; any method a path does not list gets 405 with `Allow`, '
                "any unknown /api path 404, and a body over the size limit 413."
            ),
        },
        "paths": _with_auth_errors(_paths(MAX_ROWS_LIMIT, DEFAULT_SWEEPS, MAX_MAINTENANCE_S)),
        "components": {"schemas": SCHEMAS, "responses": responses, "securitySchemes": SECURITY_SCHEMES},
        "security": [{}, {"bearer": []}, {"apiKey": []}],  # {}: auth is optional, by configuration
    }


def openapi_document() -> dict:
    """The document (a fresh copy: callers may change theirs)."""
    return copy.deepcopy(_document())
