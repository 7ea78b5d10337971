"""Which targets hear of an event: the routes, and their quiet hours (pure, no I/O)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from config.notifications import QuietHours, RouteSettings
from ops.notify.messages import Event


def in_quiet_hours(quiet: QuietHours | None, now: datetime) -> bool:
    """Whether `now` (aware) falls in the daily window; a window may run past midnight (22:00-07:00)."""
    if quiet is None:
        return False
    local = now.astimezone(ZoneInfo(quiet.timezone)).time()
    start, end = (time.fromisoformat(quiet.start), time.fromisoformat(quiet.end))
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def route(event: Event, routes: tuple[RouteSettings, ...], now: datetime) -> tuple[list[str], list[str]]:
    """(targets to send to, targets held back by quiet hours), each once, in configuration order."""
    send: list[str] = []
    quiet: list[str] = []
    for rule in routes:
        if event.kind not in rule.events or not rule.matches(event.service, event.tags):
            continue
        hushed = in_quiet_hours(rule.quiet_hours, now) and event.kind not in rule.quiet_hours.allow
        for target in rule.targets:
            if hushed:
                if target not in quiet:
                    quiet.append(target)
            elif target not in send:
                send.append(target)
    return send, [t for t in quiet if t not in send]
