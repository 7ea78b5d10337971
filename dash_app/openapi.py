"""The OpenAPI 3 document of every /api route, as plain data (served at GET /api/openapi.json)."""

from __future__ import annotations

import copy
from functools import cache

from dash_app.notifications_api import LOG_MAX as NOTIFY_LOG_MAX
from dash_app.notifications_api import MAX_WAIT_S as NOTIFY_MAX_WAIT_S
from dash_app.notifications_openapi import NOTIFICATION_SCHEMAS, notification_paths
from dash_app.params import DEFAULT_SWEEPS, MAX_MAINTENANCE_S, MAX_ROWS_LIMIT
from ops.recent_checks import MAX_POINTS as SPARK_MAX
from ops.recent_checks import SPARK_POINTS
from ops.stats import REPORT_WINDOWS

OPENAPI_VERSION = "3.0.3"
LOGS_DEFAULT, LOGS_MAX = 50, 5000  # as GET /api/logs parses `limit` (dash_app/api.py)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


def obj(properties: dict, required: tuple[str, ...] | None = None, **extra) -> dict:
    """An object schema; every property is required unless `required` says otherwise."""
    return {"type": "object", "properties": properties, "required": list(required or properties), **extra}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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


ISO_TIME = nullable("string", format="date-time")
NUMBER_OR_NULL = nullable("number")
STORAGE = obj(
    {
        "ok": {"type": "boolean"},
        "error": nullable("string"),
        "since": nullable("string"),
        "unsaved_sweeps": {"type": "integer", "minimum": 0},
    },
    required=("ok",),
    description="Whether the history is written and read; when not, `error` says why (the page shows it).",
)

SCHEMAS = {
    "Error": obj(
        {"error": {"type": "string", "description": "what went wrong, in a few words"}, "detail": {}},
        additionalProperties=False,
        description="Every API error: `detail` is null or says more (the bad value, the allowed methods...).",
    ),
    "ServiceView": obj(
        {
            "name": {"type": "string"},
            "type": {"type": "string", "enum": ["http", "tcp", "postgres"]},
            "target": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "enabled": {"type": "boolean"},
            "status": {"type": "string", "enum": ["up", "degraded", "down", "pending", "disabled"]},
            "latency_ms": NUMBER_OR_NULL,
            "http_status": nullable("integer"),
            "error": nullable("string"),
            "last_error": nullable("string"),
            "uptime": obj({w: NUMBER_OR_NULL for w in ("1h", "24h", "7d")}),
            "latency": obj({f"{p}_{w}": NUMBER_OR_NULL for w in ("1h", "24h") for p in ("p50", "p95")}),
            "consecutive_failures": {"type": "integer", "minimum": 0},
            "consecutive_successes": {"type": "integer", "minimum": 0},
            "last_checked": ISO_TIME,
            "last_change": ISO_TIME,
            "needs_attention": {"type": "boolean"},
            "maintenance": {"type": "boolean"},
            "maintenance_until": ISO_TIME,
            "recovering": {"type": "boolean"},
            "recovery_attempts": {"type": "integer", "minimum": 0},
            "flapping": {"type": "boolean"},
            "auto_recovery": {"type": "boolean"},
        },
        required=("name", "type", "target", "enabled", "status", "latency_ms", "uptime", "latency"),
    ),
    "System": obj(
        {
            "cpu_percent": {"type": "number"},
            "memory_percent": {"type": "number"},
            "disk_percent": NUMBER_OR_NULL,
            "cpu_max": {"type": "number"},
            "mem_max": {"type": "number"},
            "cpu_over": {"type": "boolean"},
            "mem_over": {"type": "boolean"},
        }
    ),
    "Snapshot": obj(
        {
            "type": {"type": "string", "enum": ["snapshot"]},
            "time": {"type": "string", "format": "date-time"},
            "sweep": {"type": "integer", "minimum": 0},
            "overall": {"type": "string", "enum": ["up", "degraded", "down", "pending"]},
            "counts": obj({k: {"type": "integer", "minimum": 0} for k in ("up", "degraded", "down", "pending")}),
            "services": {"type": "array", "items": ref("ServiceView")},
            "system": ref("System"),
            "storage": STORAGE,
        },
        description=(
            "The live state of the fleet; the WebSocket sends the same object on connect, then `result`"
            " messages and `sweep` deltas (the same keys, `services` only the views that changed)."
        ),
    ),
    "CheckRecord": obj(
        {
            "service": {"type": "string"},
            "status": {"type": "string", "description": "up, degraded, down, pending or maintenance"},
            "latency_ms": {
                **NUMBER_OR_NULL,
                "description": "how long the check took; null for a failed check, which has no latency",
            },
            "http_status": nullable("integer", description="the answer's status code, also for a failed check"),
            "error": nullable("string", description="why the check failed; null when it passed"),
        },
        description="One check of one service. A check failed exactly when `error` is set.",
    ),
    "History": obj(
        {
            "count": {"type": "integer", "minimum": 0},
            "history": {
                "type": "array",
                "description": "sweeps, oldest first",
                "items": obj({"ts": {"type": "string"}, "results": {"type": "array", "items": ref("CheckRecord")}}),
            },
        }
    ),
    "LogEntry": obj(
        {
            "id": {"type": "string"},
            "time": {"type": "string"},
            "service": {"type": "string"},
            "trigger": {"type": "string", "enum": ["auto", "manual"]},
            "action": {"type": "string"},
            "attempt": {"type": "integer"},
            "outcome": {
                "type": "string",
                "enum": ["running", "recovered", "still_down", "action_failed", "timed_out", "skipped", "interrupted"],
            },
            "duration_s": NUMBER_OR_NULL,
        },
        required=("id", "service", "outcome"),
        description="One recovery attempt; finished ones add action_s, exit_code, output_tail, error...",
    ),
    "Logs": obj({"count": {"type": "integer", "minimum": 0}, "entries": {"type": "array", "items": ref("LogEntry")}}),
    "Metrics": obj(
        {
            "uptime_s": {"type": "number"},
            "checks": {"type": "integer"},
            "failures": {"type": "integer"},
            "sweeps": {"type": "integer"},
            "sweep_ms": obj({k: NUMBER_OR_NULL for k in ("last", "avg", "max")}),
            "history_rows": {"type": "integer"},
            "latency": {"type": "object", "additionalProperties": {"type": "object"}},
            "recoveries": {"type": "integer"},
            "websocket_clients": {"type": "integer"},
            "system": {"type": "object"},
        }
    ),
    "LoopStatus": obj(
        {
            "running": {"type": "boolean"},
            "interval_s": {"type": "number"},
            "last_run": ISO_TIME,
            "next_run": ISO_TIME,
            "last_sweep_ms": NUMBER_OR_NULL,
            "sweeps": {"type": "integer", "minimum": 0},
            "errors": {"type": "integer", "minimum": 0},
            "sweep_in_progress": {"type": "boolean"},
            "leader": {
                **obj({"id": {"type": "string"}, "since": ISO_TIME, "is_me": {"type": "boolean"}}),
                "nullable": True,
                "description": "the dashboard that probes and recovers; null while none is known (or it is stale)",
            },
            "stale_leader": {
                **obj({"id": {"type": "string"}, "heartbeat": ISO_TIME}),
                "nullable": True,
                "description": "a dashboard that holds the leadership but stopped beating its heart (hung or cut off)",
            },
            "role": {
                "type": "string",
                "enum": ["leader", "follower", "single"],
                "description": "single: no shared PostgreSQL; follower: shows what the leader relays",
            },
        }
    ),
    "Info": obj(
        {
            "ws_port": nullable("integer"),
            "ws_path": {"type": "string"},
            "services": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "RecoveryStatus": obj(
        {
            "service": {"type": "string"},
            "action": nullable("string"),
            "action_detail": nullable("string"),
            "auto_recovery": {"type": "boolean"},
            "needs_attention": {"type": "boolean"},
            "maintenance": {"type": "boolean"},
            "maintenance_until": ISO_TIME,
            "recovering": {"type": "boolean"},
            "recovery_attempts": {"type": "integer", "minimum": 0},
            "flapping": {"type": "boolean", "description": "max_attempts successful recoveries in the window"},
            "failed_attempts": {"type": "integer", "minimum": 0, "description": "what the circuit counts"},
            "restart_failures": {"type": "integer"},
            "consecutive_failures": {"type": "integer", "minimum": 0},
            "current_id": nullable("string"),
            "circuit_reason": nullable("string"),
            "circuit_opened_at": ISO_TIME,
            "max_attempts": {"type": "integer"},
            "next_backoff_s": {"type": "number"},
            "next_auto_after": {**ISO_TIME, "description": "null while the circuit is open or auto is off"},
        }
    ),
    "RecoveryOverview": obj(
        {
            "auto": {"type": "boolean"},
            "running": {"type": "integer", "minimum": 0},
            "max_concurrent": {"type": "integer"},
            "services": {"type": "object", "additionalProperties": ref("RecoveryStatus")},
        }
    ),
    **NOTIFICATION_SCHEMAS,
}


def _query(name: str, schema: dict, description: str) -> dict:
    """An optional query parameter; sent empty (`?limit=`), it counts as not sent."""
    return {"name": name, "in": "query", "schema": schema, "description": description, "allowEmptyValue": True}


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


# [t_ms, latency_ms (null for a failed check), status, error]
SPARK_POINT = {"type": "array", "minItems": 4, "maxItems": 4, "items": {}}
SPARKS = obj(
    {
        "interval_s": {"type": "number"},
        "points": {"type": "integer"},
        "fields": {"type": "array", "items": {"type": "string"}},
        "services": {"type": "object", "additionalProperties": {"type": "array", "items": SPARK_POINT}},
    }
)
PER_WINDOW = {"type": "object", "additionalProperties": NUMBER_OR_NULL}
UPTIME_FIGURES = obj({"uptime": PER_WINDOW, "p50_ms": PER_WINDOW, "p95_ms": PER_WINDOW}, ("p50_ms", "p95_ms"))
UPTIME_REPORT = obj(
    {
        "as_of": {"type": "string", "format": "date-time"},
        "windows": {"type": "array", "items": {"type": "string"}},
        "services": {"type": "object", "additionalProperties": UPTIME_FIGURES},
        "fleet": UPTIME_FIGURES,
        "storage": STORAGE,
    },
    ("as_of", "windows", "services", "storage"),
)
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
                "rollups beyond the raw retention: uptime to the minute or hour, percentiles within about 5 %)",
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
