"""The OpenAPI entries of /api/notifications (merged into dash_app/openapi.py's document)."""

from __future__ import annotations

OUTCOMES = ["queued", "sent", "retrying", "gave_up", "dropped", "quiet"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


def _obj(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties)}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*names: str) -> dict:
    codes = {"BadRequest": "400", "NotFound": "404", "PayloadTooLarge": "413"}
    return {codes[n]: {"$ref": f"#/components/responses/{n}"} for n in names}


NOTIFICATION_SCHEMAS = {
    "NotificationEntry": _obj(
        {
            "id": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
            "target": {"type": "string"},
            "event": {"type": "string", "description": "down, recovered, recovery_failed, ..., or test"},
            "service": _nullable("string"),
            "title": {"type": "string"},
            "incident": _nullable("string"),
            "reminder": {"type": "integer", "minimum": 0},
            "test": {"type": "boolean"},
            "attempt": {"type": "integer", "minimum": 0},
            "outcome": {"type": "string", "enum": OUTCOMES},
            "error": _nullable("string"),
        }
    ),
    "Notifications": _obj(
        {
            "enabled": {"type": "boolean"},
            "targets": {
                "type": "array",
                "items": _obj(
                    {
                        "name": {"type": "string"},
                        "kind": {"type": "string", "description": "the URL's scheme only (json, mailto, ntfy...)"},
                        "queued": {"type": "integer", "minimum": 0},
                        "dropped": {"type": "integer", "minimum": 0},
                    }
                ),
            },
            "counts": {
                "type": "array",
                "items": _obj(
                    {"target": {"type": "string"}, "outcome": {"type": "string"}, "count": {"type": "integer"}}
                ),
            },
            "incidents": {
                "type": "array",
                "items": _obj({"service": {"type": "string"}, "since": {"type": "string"}, "id": {"type": "string"}}),
            },
            "count": {"type": "integer", "minimum": 0},
            "entries": {"type": "array", "items": _ref("NotificationEntry")},
        }
    ),
}


def notification_paths(log_max: int, max_wait_s: float) -> dict:
    limit = {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": log_max},
        "description": "delivery log entries, newest first (default 50); sent empty, it counts as not sent",
        "allowEmptyValue": True,  # as every optional query parameter of the API (dash_app/params.py)
    }
    body = _obj(
        {
            "target": {"type": "string", "minLength": 1},
            "wait_s": {"type": "number", "minimum": 0, "maximum": max_wait_s},
        }
    )
    body["required"] = ["target"]
    entry = _ref("NotificationEntry")
    return {
        "/api/notifications": {
            "get": {
                "summary": "Targets (names and kinds, never URLs), send counts, open incidents and the delivery log",
                "parameters": [limit],
                "responses": {"200": _json("notifications", _ref("Notifications")), **_errors("BadRequest")},
            }
        },
        "/api/notifications/test": {
            "post": {
                "summary": "Send a test message to one target (202 at once; with wait_s, 200 once it has an outcome)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": {
                    "200": _json("finished: outcome sent or gave_up (with the error)", entry),
                    "202": _json("queued", entry),
                    **_errors("BadRequest", "NotFound", "PayloadTooLarge"),
                },
            }
        },
    }
