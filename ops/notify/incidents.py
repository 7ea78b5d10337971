"""Incidents, not spam: one per outage, opened at `down`, closed at `recovered`, reminders on a schedule.

Pure state and rules, no threads and no I/O: the notifier feeds it results, recovery entries and
snapshots on its one events thread and sends whatever events come back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from config.notifications import Reminders
from ops.notify.messages import Event

DOWN, UP, DEGRADED = "down", "up", "degraded"
HEALTHY = (UP, DEGRADED)
FAILED_OUTCOMES = ("still_down", "action_failed", "timed_out")


@dataclass
class Incident:
    """One outage of one service."""

    id: str
    service: str
    since: datetime  # when the status turned down
    reason: str
    opened: float  # clock() when opened, for the reminder schedule
    reminders: int = 0
    next_reminder: float | None = None
    tried: list[str] = field(default_factory=list)  # what recovery did, in words
    attempts: int = 0  # recovery attempts started during the incident
    recovered_by: str | None = None


def attempt_text(entry: dict) -> str:
    """'attempt 2 (auto http): still_down: webhook answered HTTP 503'."""
    reason = entry.get("error") or entry.get("reason") or ""
    head = f"attempt {entry.get('attempt') or '?'} ({entry.get('trigger', '?')} {entry.get('action', '?')})"
    return f"{head}: {entry.get('outcome')}" + (f": {str(reason)[:200]}" if reason else "")


class IncidentBook:
    """What is open and what was last said, per service and for the host."""

    def __init__(self, reminders: Reminders, clock) -> None:
        self.reminders, self.clock = reminders, clock
        self.open: dict[str, Incident] = {}
        self.status: dict[str, str] = {}  # the last status seen, per service
        self.silenced: set[str] = set()  # services under maintenance
        self.host: dict[str, str] = {}  # "cpu"/"memory"/"disk" -> what is wrong now

    # -- check results -------------------------------------------------------------------------
    def observe(self, name: str, status: str, maintenance: bool, since, reason: str, ts, tags=()) -> list[Event]:
        """One check result of `name`; returns the events it causes (down, recovered, degraded)."""
        before = self.status.get(name)
        self.status[name] = status
        (self.silenced.add if maintenance else self.silenced.discard)(name)
        incident = self.open.get(name)
        if status == DOWN and incident is None and not maintenance:
            incident = self._open(name, since or ts, reason)
            return [Event("down", name, status, reason, incident.since, ts, tags, incident.id)]
        if status in HEALTHY and incident is not None:
            del self.open[name]
            facts = {"duration_s": (ts - incident.since).total_seconds(), "recovered_by": self._credit(incident)}
            if incident.tried:
                facts["tried"] = list(incident.tried)
            if maintenance:
                return []
            return [
                Event("recovered", name, status, f"back {status}", incident.since, ts, tags, incident.id, facts=facts)
            ]
        if status == DEGRADED and before != DEGRADED and not maintenance:
            return [Event("degraded", name, status, reason or "slow answers", since or ts, ts, tags)]
        return []

    def _open(self, name: str, since: datetime, reason: str) -> Incident:
        now = self.clock()
        first = self.reminders.after_s
        incident = Incident(
            uuid.uuid4().hex[:8], name, since, reason, now, next_reminder=None if first is None else now + first
        )
        self.open[name] = incident
        return incident

    def adopt(self, records: list[dict]) -> None:
        """A new leader: the incidents the shared log says are open become ours (announced, not again)."""
        now, first = self.clock(), self.reminders.after_s
        adopted = {}
        for record in records:
            mine = self.open.get(record["service"])
            if mine is not None and mine.id == record["id"]:
                adopted[mine.service] = mine
                continue
            adopted[record["service"]] = Incident(
                record["id"], record["service"], record["since"], record["reason"], now,
                reminders=record.get("reminders") or 0, next_reminder=None if first is None else now + first,
            )  # fmt: skip
            self.status.setdefault(record["service"], DOWN)
        self.open = adopted

    @staticmethod
    def _credit(incident: Incident) -> str:
        if incident.recovered_by:
            return incident.recovered_by
        if incident.attempts:
            return "came back while a recovery was running"
        return "no recovery ran: it came back by itself"

    # -- the recovery engine's log entries --------------------------------------------------------
    def recovery(self, entry: dict, ts: datetime, tags=()) -> list[Event]:
        """A recovery log entry as the engine publishes it (started, finished, skipped)."""
        name = entry.get("service")
        if not isinstance(name, str):
            return []
        incident = self.open.get(name)
        outcome = entry.get("outcome")
        status = self.status.get(name, DOWN)
        since = incident.since if incident else None
        ref = incident.id if incident else None
        events: list[Event] = []
        if incident is not None and outcome == "running":
            incident.attempts += 1
        elif incident is not None and outcome == "recovered":
            incident.recovered_by = f"recovery {attempt_text(entry)}"
            incident.tried.append(attempt_text(entry))
        elif outcome in FAILED_OUTCOMES:
            if incident is not None:
                incident.tried.append(attempt_text(entry))
            reason = entry.get("error") or ("still down after verification" if outcome == "still_down" else outcome)
            tried = list(incident.tried) if incident else [attempt_text(entry)]
            events.append(
                Event("recovery_failed", name, status, str(reason), since, ts, tags, ref, facts={"tried": tried})
            )
        if entry.get("circuit_open") or (outcome == "skipped" and entry.get("reason_code") == "attempt_cap"):
            reason = entry.get("reason") or "recovery attempts exhausted: circuit open"
            facts = {"tried": list(incident.tried)} if incident and incident.tried else {}
            events.append(Event("needs_attention", name, status, str(reason), since, ts, tags, ref, facts=facts))
        if entry.get("flapping"):
            text = "it keeps failing after successful recoveries; recovery backs off"
            events.append(Event("flapping", name, status, text, since, ts, tags, ref))
        return [] if name in self.silenced else events

    # -- reminders -----------------------------------------------------------------------------
    def due_reminders(self, ts: datetime) -> list[Event]:
        """Reminders whose time has come, for incidents still open (none during maintenance)."""
        now = self.clock()
        events = []
        for incident in self.open.values():
            if incident.next_reminder is None or now < incident.next_reminder:
                continue
            every = self.reminders.every_s
            incident.next_reminder = None if every is None else now + every
            if incident.service in self.silenced:
                continue
            incident.reminders += 1
            facts = {"tried": list(incident.tried)} if incident.tried else {}
            events.append(
                Event(
                    "down", incident.service, DOWN, incident.reason, incident.since, ts,
                    incident=incident.id, reminder=incident.reminders, facts=facts,
                )
            )  # fmt: skip
        return events

    def next_due(self) -> float | None:
        """clock() of the next reminder, or None."""
        times = [i.next_reminder for i in self.open.values() if i.next_reminder is not None]
        return min(times) if times else None

    # -- the host: CPU/memory thresholds and whether the history reaches the disk ------------------
    def host_state(self, system: dict, storage: dict, ts: datetime) -> list[Event]:
        """system (CPU/memory over the thresholds) and disk (history cannot be written), each once an episode."""
        now: dict[str, tuple[str, str, datetime | None]] = {}
        if system.get("cpu_over"):
            now["cpu"] = ("system", f"CPU at {system.get('cpu_percent', 0):.0f}% (over {system.get('cpu_max')}%)", ts)
        if system.get("mem_over"):
            text = f"memory at {system.get('memory_percent', 0):.0f}% (over {system.get('mem_max')}%)"
            now["memory"] = ("system", text, ts)
        if storage and storage.get("ok") is False:
            since = _parse_time(storage.get("since")) or ts
            now["disk"] = ("disk", str(storage.get("error") or "history is not being saved"), since)
        events = []
        for key, (kind, reason, since) in now.items():
            if key not in self.host:
                events.append(Event(kind, None, "problem", reason, since, ts))
        for key in self.host:
            if key not in now:
                kind = "disk" if key == "disk" else "system"
                text = {"cpu": "CPU back under its threshold", "memory": "memory back under its threshold"}
                events.append(
                    Event(kind, None, "ok", text.get(key, "history is being saved again"), ts, ts, resolved=True)
                )
        self.host = {key: reason for key, (_, reason, _) in now.items()}
        return events


def _parse_time(text) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
