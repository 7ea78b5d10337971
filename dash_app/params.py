"""Parsing of query parameters and bodies; every bad value becomes a 400 with the JSON shape."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import NoReturn

from flask import request

from dash_app.errors import ApiError

# Every body this API takes is a small JSON object; larger requests get 413 (MAX_CONTENT_LENGTH). Dash's
# callback requests carry at most the live snapshot, well under this even for a few hundred services.
MAX_BODY_BYTES = 1024 * 1024
# Limits of the API's parameters, here so the routes (dash_app/api.py) and their document (openapi.py) share them.
DEFAULT_SWEEPS = 50
MAX_ROWS_LIMIT = 1_000_000
MAX_MAINTENANCE_S = 30 * 86400


def int_param(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer", {"value": raw}) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}", {"value": value})
    return value


def time_param(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    text = raw.strip().replace("Z", "+00:00")
    # An unescaped "+" in a query string arrives as a space: "12:00:00 00:00" means "+00:00".
    candidates = (text, text[:-6] + "+" + text[-5:]) if text[-6:-5] == " " else (text,)
    value = None
    for candidate in candidates:
        try:
            value = datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    if value is None:
        raise ApiError(400, f"{name} must be an ISO 8601 time", {"value": raw})
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def service_param(known: list[str], name: str = "service") -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in known:
        raise ApiError(404, "unknown service", {"service": raw})
    return raw


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: JSON has no infinity, and echoing one back would not be JSON either
        raise ValueError(f"{text} is out of range")
    return value


def _not_json(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def json_body() -> dict:
    """The request's JSON object; an empty body is {}. NaN, Infinity and 1e999 are malformed."""
    data = request.get_data(cache=True)  # over MAX_BODY_BYTES: werkzeug raises 413 here
    if not data:
        return {}
    try:
        body = json.loads(data, parse_constant=_not_json, parse_float=_finite)
    except (ValueError, RecursionError):  # bad syntax or encoding, NaN/Infinity, huge integers, deep nesting
        raise ApiError(400, "malformed JSON body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body
