"""What a notification says: the event record and its title/body, as pure functions (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

# Apprise's notify types (apprise.NotifyType values): they colour the message where a service can.
INFO, SUCCESS, WARNING, FAILURE = "info", "success", "warning", "failure"
TYPES = {
    "down": FAILURE,
    "recovered": SUCCESS,
    "recovery_failed": FAILURE,
    "needs_attention": FAILURE,
    "flapping": WARNING,
    "degraded": WARNING,
    "system": WARNING,
    "disk": FAILURE,
    "test": INFO,
}
HEADLINES = {
    "down": "is down",
    "recovered": "is up again",
    "recovery_failed": "recovery failed",
    "needs_attention": "needs attention: automatic recovery stopped",
    "flapping": "is flapping",
    "degraded": "is degraded",
}


@dataclass(frozen=True)
class Event:
    """One thing worth telling a person; `service` is None for fleet-wide events (system, disk, groups)."""

    kind: str
    service: str | None
    status: str
    reason: str
    since: datetime | None
    ts: datetime
    tags: tuple[str, ...] = ()
    incident: str | None = None
    reminder: int = 0  # 0: the event itself; n: the n-th reminder of a still open incident
    resolved: bool = False  # system/disk: back to normal
    facts: dict = field(default_factory=dict)  # duration_s, recovered_by, tried, services (a group)


def when(ts: datetime | None) -> str:
    return "unknown" if ts is None else ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """3 s, 4 min 10 s, 2 h 5 min, 1 d 3 h."""
    if seconds is None:
        return "unknown"
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def service_link(public_url: str | None, service: str | None) -> str | None:
    if not public_url:
        return None
    base = public_url.rstrip("/") + "/"
    return base if service is None else f"{base}?service={quote(service)}"


def notify_type(event: Event) -> str:
    if event.resolved:
        return SUCCESS
    return TYPES.get(event.kind, INFO)


def title(event: Event) -> str:
    """One line that says it all in a phone's notification."""
    if "services" in event.facts:
        names = [e.service for e in event.facts["services"]]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        if event.reminder:
            return f"[REMINDER] {len(names)} services are still down: {shown}"
        return f"[DOWN] {len(names)} services are down: {shown}"
    prefix = "[REMINDER] " if event.reminder else f"[{event.kind.upper().replace('_', ' ')}] "
    if event.kind in ("system", "disk"):
        return ("[RESOLVED] " if event.resolved else prefix) + event.reason
    return f"{prefix}{event.service} {HEADLINES.get(event.kind, event.kind)}"


def body(event: Event, public_url: str | None, now: datetime | None = None) -> str:
    """Plain text lines: service, status, reason, since when, recovery tried, the dashboard link."""
    if "services" in event.facts:
        head = "These services are still down:" if event.reminder else "Several services went down in one check sweep:"
        lines = [head] + [f"- {e.service}: {e.reason} (since {when(e.since)})" for e in event.facts["services"]]
        link = service_link(public_url, None)
        return "\n".join(lines + ([f"Dashboard: {link}"] if link else []))
    lines = [f"Service: {event.service}"] if event.service else []
    lines += [f"Status: {event.status}", f"Reason: {event.reason}", f"Since: {when(event.since)}"]
    facts = event.facts
    if event.reminder and event.since is not None:
        lines.append(f"Down for: {duration(((now or event.ts) - event.since).total_seconds())}")
    if "duration_s" in facts:
        lines.append(f"Outage lasted: {duration(facts['duration_s'])}")
    if "recovered_by" in facts:
        lines.append(f"Recovered by: {facts['recovered_by']}")
    if facts.get("tried"):
        lines.append("Recovery tried: " + "; ".join(facts["tried"]))
    link = service_link(public_url, event.service)
    if link:
        lines.append(f"Dashboard: {link}")
    return "\n".join(lines)


def group(events: list[Event], ts: datetime) -> Event:
    """Several `down` events of one sweep (or reminders due together) as one message."""
    reminder = 1 if all(e.reminder for e in events) else 0
    facts = {"services": list(events)}
    return Event("down", None, "down", f"{len(events)} services down", ts, ts, reminder=reminder, facts=facts)
