"""The OpenAPI schemas (components and payloads) that dash_app/openapi.py's paths refer to."""

from __future__ import annotations

from dash_app.notifications_openapi import NOTIFICATION_SCHEMAS


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


def obj(properties: dict, required: tuple[str, ...] | None = None, **extra) -> dict:
    """An object schema; every property is required unless `required` says otherwise."""
    return {"type": "object", "properties": properties, "required": list(required or properties), **extra}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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
