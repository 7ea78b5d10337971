"""Parsing of query parameters and bodies; every bad value becomes a 400 with the JSON shape."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

from dash_app.errors import ApiError


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


def json_body() -> dict:
    """The request's JSON object; an empty body is {}."""
    if not request.get_data(cache=True):
        return {}
    try:
        body = request.get_json(force=True, silent=False)
    except Exception:  # noqa: BLE001 - werkzeug raises BadRequest for any malformed body
        raise ApiError(400, "malformed JSON body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body
