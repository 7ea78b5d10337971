"""Helpers the callback modules share: the operator's time zone, times as they read them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

TZ_COOKIE = "mc_tz"  # set by the inline script in the page head (dash_app/dashboard.py)
WALL_EPOCH = datetime(1970, 1, 1)
MS = timedelta(milliseconds=1)


def zone(name: str | None) -> tzinfo:
    """The named IANA zone, or UTC for a missing or unknown name.

    The page's head script sends it URL-encoded ("Asia%2FTokyo"), so it is decoded first.
    """
    name = unquote(name) if name else name
    if not name or len(name) > 64:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def request_tz() -> tzinfo:
    """The browser's zone, from its cookie; UTC outside a request."""
    try:
        from flask import has_request_context, request

        return zone(request.cookies.get(TZ_COOKIE)) if has_request_context() else UTC
    except ImportError:  # pragma: no cover - flask always comes with dash
        return UTC


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def clock(value: str | datetime | None, tz: tzinfo, with_date: bool = False) -> str | None:
    """'14:03:07' (or 'Nov 26 14:03:07') in the operator's zone; None for no time."""
    moment = parse_iso(value) if isinstance(value, str) or value is None else value
    if moment is None:
        return None
    local = moment.astimezone(tz)
    return local.strftime("%b %d %H:%M:%S" if with_date else "%H:%M:%S")


def iso_local(value: str | datetime | None, tz: tzinfo) -> str:
    """The moment in the operator's zone as ISO 8601 with its offset (for a title on hover); "" for none."""
    moment = parse_iso(value) if isinstance(value, str) or value is None else value
    return "" if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")


def local_ms(stamps: list[datetime], tz: tzinfo) -> list[int]:
    """UTC moments as epoch milliseconds of the local wall clock (plotly draws dates without zones)."""
    return [wall_ms(moment, tz) for moment in stamps]


def wall_ms(moment: datetime, tz: tzinfo) -> int:
    """One moment as local-wall-clock epoch milliseconds (whole ones, rounded down)."""
    return (moment.astimezone(tz).replace(tzinfo=None) - WALL_EPOCH) // MS


def error_text(exc: BaseException) -> str:
    """What an operator should read about a refused or failed action."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    reason = getattr(exc, "reason", None)
    return f"{message} ({reason})" if reason and reason not in message else message
