"""Typed settings for notifications: targets (Apprise URLs from the environment), routes, reminders.

A target's URL carries tokens and passwords, so the file only names the environment variable that
holds it; the URL itself is read when the settings are built and is never shown anywhere.
"""

from __future__ import annotations

import os
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EVENTS = ("down", "recovered", "recovery_failed", "needs_attention", "flapping", "degraded", "system", "disk")
Event = Literal["down", "recovered", "recovery_failed", "needs_attention", "flapping", "degraded", "system", "disk"]
DEFAULT_EVENTS: tuple[str, ...] = tuple(e for e in EVENTS if e != "degraded")  # degraded: off by default
TARGET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\Z")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TargetSettings(_Strict):
    """One place messages go: the Apprise URL is in the environment variable `url_env`."""

    url_env: str
    # Seconds between two sends to this target; None: Apprise's own pace for the service (5.5 s for
    # most, e.g. e-mail; none for webhooks). 0 suits a local mail relay.
    min_interval_s: float | None = Field(default=None, ge=0, le=3600)

    @field_validator("url_env")
    @classmethod
    def _set_in_environment(cls, name: str) -> str:
        if not ENV_NAME_RE.match(name):
            raise ValueError("must be an environment variable name (letters, digits, '_'; not starting with a digit)")
        value = os.environ.get(name, "").strip()
        if not value:
            raise ValueError(f"environment variable {name} is not set (it must hold the target's Apprise URL)")
        if "://" not in value:
            raise ValueError(f"environment variable {name} does not hold an Apprise URL (scheme://...)")
        return name

    def url(self) -> str:
        """The secret URL; only the sender may call this."""
        return os.environ.get(self.url_env, "").strip()


class QuietHours(_Strict):
    """A daily window (local time of `timezone`) when only the `allow`ed events are sent."""

    start: str
    end: str
    timezone: str = "UTC"
    allow: tuple[Event, ...] = ("needs_attention",)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not CLOCK_RE.match(value):
            raise ValueError("must be a time of day HH:MM (24 h)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds for a bad name
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
        return value


class RouteSettings(_Strict):
    """Which events of which services go to which targets; no services and no tags = every service."""

    targets: tuple[str, ...] = Field(min_length=1)
    events: tuple[Event, ...] = DEFAULT_EVENTS
    services: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    quiet_hours: QuietHours | None = None

    def matches(self, service: str | None, tags: tuple[str, ...] = ()) -> bool:
        """Whether this route covers `service` (None: a fleet-wide event such as system or disk)."""
        if service is None or (not self.services and not self.tags):
            return True
        return service in self.services or bool(set(tags) & set(self.tags))


class Reminders(_Strict):
    """While an incident lasts: a reminder after `after_s`, then every `every_s` (null: never again)."""

    after_s: float | None = Field(default=1800.0, gt=0, le=30 * 86400)
    every_s: float | None = Field(default=4 * 3600.0, gt=0, le=30 * 86400)


class DeliverySettings(_Strict):
    """The bounded queue of each target and how failed sends are retried."""

    queue_size: int = Field(default=200, ge=1, le=100_000)
    max_attempts: int = Field(default=5, ge=1, le=100)
    backoff_s: float = Field(default=2.0, ge=0, le=3600)
    backoff_max_s: float = Field(default=300.0, ge=0, le=86400)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    log_entries: int = Field(default=5000, ge=10, le=1_000_000)


class NotificationSettings(_Strict):
    """The `notifications` section of the config file."""

    enabled: bool = True
    public_url: str | None = None
    targets: dict[str, TargetSettings] = {}
    routes: tuple[RouteSettings, ...] = ()
    reminders: Reminders = Reminders()
    group_min: int = Field(default=3, ge=2, le=10_000)
    # A down waits for the end of its sweep, at most this long, so that a sweep's downs go out as one.
    group_wait_s: float = Field(default=0.5, ge=0, le=60)
    delivery: DeliverySettings = DeliverySettings()

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be the dashboard's absolute http:// or https:// URL")
        return value

    @field_validator("targets")
    @classmethod
    def _names(cls, targets: dict[str, TargetSettings]) -> dict[str, TargetSettings]:
        for name in targets:
            if not TARGET_NAME_RE.match(name):
                raise ValueError(f"target name {name[:40]!r}: 1-64 characters of letters, digits, '.', '_' or '-'")
        return targets

    @model_validator(mode="after")
    def _routes_name_targets(self) -> NotificationSettings:
        for index, route in enumerate(self.routes):
            for target in route.targets:
                if target not in self.targets:
                    raise ValueError(f"routes[{index}].targets: {target!r} is not one of the targets")
        return self

    def unknown_services(self, known: set[str]) -> str | None:
        """A message naming the first route service that is not configured, or None."""
        for index, route in enumerate(self.routes):
            for name in route.services:
                if name not in known:
                    return f"notifications.routes[{index}].services: {name!r} is not a configured service"
        return None
