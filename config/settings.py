"""Typed settings for Mission Control, validated completely when the file is loaded."""

from __future__ import annotations

import os
import re
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from config.auth import AuthSettings
from config.notifications import NotificationSettings

# A service name ends up in log lines, URLs and recovery argv: keep it to a safe alphabet so
# that `x; rm -rf /` or `$(id)` can never be a name in the first place.
# \Z, not $: "$" also matches before a trailing newline, which let "web\n" through.
SERVICE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
HTTP_METHODS = ("GET", "HEAD", "POST")
# A postgres service names the variable that holds its DSN; the credentials never sit in this file.
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
POSTGRES_PORT = 5432
# "auto" probe concurrency: one thread per enabled service (a sweep then lasts about its slowest
# timeout, whatever the fleet's size), at least this many, at most MAX_CONCURRENCY.
MIN_AUTO_CONCURRENCY = 8
MAX_CONCURRENCY = 1024


class Strict(BaseModel):
    """Base model: unknown keys are an error, never silently ignored."""

    # NaN and Infinity (JSON has neither, but json.loads reads them and 1e999) are never a valid setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StatusRange(Strict):
    """An inclusive range of accepted HTTP status codes."""

    low: int = Field(ge=100, le=599)
    high: int = Field(ge=100, le=599)

    def accepts(self, code: int) -> bool:
        return self.low <= code <= self.high


def parse_expected_status(value: object) -> tuple[StatusRange, ...]:
    """Accept 200, [200, 204], "200-399" or ["2xx"-style ranges] and normalise to ranges."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("must name at least one status code")
    ranges = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError("must be a status code, a list of codes or a range like '200-399'")
        if isinstance(item, int):
            low = high = item
        elif isinstance(item, str) and re.fullmatch(r"\s*\d{3}\s*(-\s*\d{3}\s*)?", item):
            parts = [int(p) for p in item.split("-")]
            low, high = parts[0], parts[-1]
        else:
            raise ValueError("must be a status code, a list of codes or a range like '200-399'")
        if not (100 <= low <= high <= 599):
            raise ValueError(f"{item!r} is not a status code range within 100..599")
        ranges.append(StatusRange(low=low, high=high))
    return tuple(ranges)


# Placeholders a recovery command may use; each must be a whole argument, never part of one,
# so a value can never be split or re-parsed (and no shell ever sees the argv anyway).
COMMAND_PLACEHOLDERS = ("{service}", "{container}", "{host}", "{port}")
# Docker's own rule for container names.
CONTAINER_NAME_RE = re.compile(r"^/?[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")


class RecoverySettings(Strict):
    """How one service is recovered (the recovery engine reads this)."""

    action: Literal["command", "docker", "http", "demo", "none"] = "none"
    command: tuple[str, ...] | None = None
    container: str | None = None
    url: str | None = None
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    auto: bool = True
    restart_failures: int | None = Field(default=None, ge=1, le=1000)
    verify_timeout_s: float | None = Field(default=None, gt=0, le=3600)

    @field_validator("command")
    @classmethod
    def _whole_placeholders(cls, argv: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for index, arg in enumerate(argv or ()):
            if not arg or "\x00" in arg:
                raise ValueError(f"argument {index} must be a non-empty string")
            if ("{" in arg or "}" in arg) and arg not in COMMAND_PLACEHOLDERS:
                known = ", ".join(COMMAND_PLACEHOLDERS)
                raise ValueError(f"argument {index} {arg!r}: a placeholder must be a whole argument, one of {known}")
        if argv and argv[0] in COMMAND_PLACEHOLDERS:
            raise ValueError("the program (argument 0) cannot be a placeholder")
        return argv

    @field_validator("container")
    @classmethod
    def _container_name(cls, value: str | None) -> str | None:
        if value is not None and not CONTAINER_NAME_RE.match(value):
            raise ValueError("must be a Docker container name (letters, digits, '_', '.', '-')")
        return value

    @model_validator(mode="after")
    def _action_has_its_target(self) -> RecoverySettings:
        if self.action == "command" and not self.command:
            raise ValueError("action 'command' needs a non-empty 'command' argv list")
        if self.action == "docker" and not self.container:
            raise ValueError("action 'docker' needs 'container'")
        if self.action == "http":
            parts = urlsplit(self.url or "")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("action 'http' needs an http(s) 'url'")
        return self


def dsn_dbname(dsn: str | None) -> str | None:
    """The database a libpq URL or key=value DSN names, or None; never raises (it is only for display)."""
    if not dsn:
        return None
    try:
        if dsn.startswith(("postgresql://", "postgres://")):
            name = unquote(urlsplit(dsn).path.lstrip("/"))
        else:
            match = re.search(r"(?:^|\s)dbname\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
            name = match[1].strip("'") if match else ""
    except ValueError:
        return None
    return name if SERVICE_NAME_RE.match(name) else None


class ServiceSettings(Strict):
    """One monitored service: where it is, how to probe it, what counts as healthy."""

    name: str
    type: Literal["http", "tcp", "postgres"] | None = None
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    health_endpoint: str | None = None
    url: str | None = None
    method: str = "GET"
    timeout_s: float = Field(default=5.0, gt=0, le=300)
    expected_status: tuple[StatusRange, ...] = (StatusRange(low=200, high=399),)
    expect_body: str | None = None
    degraded_latency_ms: float | None = Field(default=None, gt=0)
    failure_threshold: int = Field(default=3, ge=1, le=1000)
    success_threshold: int = Field(default=1, ge=1, le=1000)
    enabled: bool = True
    tags: tuple[str, ...] = ()
    recovery: RecoverySettings = RecoverySettings()
    dsn_env: str | None = None  # postgres only; defaults to DATABASE_URL

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not SERVICE_NAME_RE.match(value):
            raise ValueError("must be 1-64 characters of letters, digits, '.', '_' or '-'")
        return value

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value.upper() not in HTTP_METHODS:
            raise ValueError(f"must be one of {', '.join(HTTP_METHODS)}")
        return value.upper()

    @field_validator("health_endpoint")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must be a path starting with '/'")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("dsn_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME_RE.match(value):
            raise ValueError("must be an environment variable name (letters, digits, '_'; not starting with a digit)")
        return value

    @field_validator("expected_status", mode="before")
    @classmethod
    def _status(cls, value: object) -> object:
        return value if isinstance(value, tuple) else parse_expected_status(value)

    @model_validator(mode="after")
    def _complete_target(self) -> ServiceSettings:
        kind = self.type or ("http" if (self.url or self.health_endpoint) else "tcp")
        object.__setattr__(self, "type", kind)
        if kind == "postgres":
            object.__setattr__(self, "port", self.port or POSTGRES_PORT)
            object.__setattr__(self, "dsn_env", self.dsn_env or "DATABASE_URL")
        elif self.dsn_env is not None:
            raise ValueError("'dsn_env' is only for a postgres service")
        if kind == "tcp" and self.port is None:
            raise ValueError("a tcp service needs 'port'")
        if kind == "http" and not self.url and self.port is None:
            raise ValueError("an http service needs 'url' or 'port' (with 'health_endpoint')")
        return self

    @property
    def target(self) -> str:
        """What is probed, as an operator reads it: a URL or host:port."""
        if self.type == "tcp":
            return f"{self.host}:{self.port}"
        if self.type == "postgres":
            # Never user or password: this string is shown on the page, in the API and in webhooks.
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"postgresql://{host}:{self.port}/{dsn_dbname(os.environ.get(self.dsn_env or '')) or ''}"
        if self.url:
            return self.url
        return f"http://{self.host}:{self.port}{self.health_endpoint or '/'}"


class Thresholds(Strict):
    """Global thresholds, in the shape of the original config."""

    restart_failures: int = Field(default=3, ge=1, le=1000)
    cpu_max: float = Field(default=90.0, gt=0, le=100)
    mem_max: float = Field(default=90.0, gt=0, le=100)


class RecoveryPolicy(Strict):
    """Global recovery switches and limits (see ops/recovery/engine.py for how they combine)."""

    enabled: bool = True  # automatic recovery on; manual recovery always works
    cooldown_s: float = Field(default=30.0, ge=0, le=86400)
    backoff_max_s: float = Field(default=300.0, ge=0, le=86400)
    max_attempts: int = Field(default=3, ge=1, le=100)
    window_s: float = Field(default=3600.0, gt=0, le=7 * 86400)
    verify_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    verify_interval_s: float = Field(default=2.0, gt=0, le=600)
    healthy_reset_s: float = Field(default=600.0, ge=0, le=7 * 86400)
    max_concurrent: int = Field(default=2, ge=1, le=64)
    log_path: str | None = None


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def postgres_url_problem(url: str) -> str | None:
    """Why `url` is no libpq URL the history store can use, or None; never repeats the URL (a password)."""
    if not url.startswith(POSTGRES_SCHEMES):
        return "must be a postgresql:// URL"
    try:
        urlsplit(url).port  # noqa: B018 - raises on a port that is no number or out of range
    except ValueError:
        return "is not a valid postgresql:// URL (check the port)"
    return None


class StorageSettings(Strict):
    """Where the history is kept: the embedded files (default) or a PostgreSQL database."""

    url: str | None = None  # postgresql://user:password@host:5432/db (prefer url_env: no password in the file)
    url_env: str | None = None  # the environment variable holding that URL, e.g. DATABASE_URL
    raw_retention_h: float = Field(default=48.0, gt=0, le=24 * 3650)  # raw checks; rollups keep retention_days

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        problem = None if value is None else postgres_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("url_env")
    @classmethod
    def _url_in_environment(cls, name: str | None) -> str | None:
        if name is None:
            return None
        if not ENV_NAME_RE.match(name):
            raise ValueError("must be an environment variable name (letters, digits, '_'; not starting with a digit)")
        value = os.environ.get(name, "").strip()
        if not value:
            raise ValueError(f"environment variable {name} is not set (it must hold a postgresql:// URL)")
        problem = postgres_url_problem(value)
        if problem:
            raise ValueError(f"environment variable {name} {problem}")
        return name

    @model_validator(mode="after")
    def _one_source(self) -> StorageSettings:
        if self.url and self.url_env:
            raise ValueError("set 'url' or 'url_env', not both")
        return self

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL URL to keep the history in, or None for the embedded store."""
        if self.url_env:
            return os.environ.get(self.url_env, "").strip() or None
        return self.url


class Settings(Strict):
    """The whole configuration file."""

    services: tuple[ServiceSettings, ...]
    thresholds: Thresholds = Thresholds()
    interval_s: float = Field(default=40.0, ge=0.2, le=86400)
    retention_days: float = Field(default=90.0, gt=0, le=3650)  # rollups (uptime, long charts); raw: storage
    storage: StorageSettings = StorageSettings()
    # "auto" or a number; after validation always the number of probe threads (see `_size_probes`).
    max_concurrency: int | Literal["auto"] = "auto"
    recovery: RecoveryPolicy = RecoveryPolicy()
    auth: AuthSettings = AuthSettings()
    notifications: NotificationSettings = NotificationSettings()

    @field_validator("services")
    @classmethod
    def _unique_names(cls, services: tuple[ServiceSettings, ...]) -> tuple[ServiceSettings, ...]:
        # Checked here, not with min_length: that also fired, confusingly, when one service was invalid.
        if not services:
            raise ValueError("must list at least 1 service")
        seen: set[str] = set()
        for index, service in enumerate(services):
            if service.name in seen:
                raise ValueError(f"services[{index}].name {service.name!r} is a duplicate")
            seen.add(service.name)
        return services

    @field_validator("max_concurrency", mode="before")
    @classmethod
    def _concurrency_range(cls, value: object) -> object:
        if value == "auto":
            return value
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
            raise ValueError(f'must be "auto" or a whole number of threads in 1..{MAX_CONCURRENCY}')
        return value

    @model_validator(mode="after")
    def _size_probes(self) -> Settings:
        """Resolve "auto" to one probe thread per enabled service (within MIN/MAX_AUTO bounds)."""
        if self.max_concurrency == "auto":
            enabled = sum(1 for s in self.services if s.enabled)
            object.__setattr__(self, "max_concurrency", max(MIN_AUTO_CONCURRENCY, min(MAX_CONCURRENCY, enabled)))
        return self

    @field_validator("storage")
    @classmethod
    def _raw_within_retention(cls, storage: StorageSettings, info: ValidationInfo) -> StorageSettings:
        days = info.data.get("retention_days")  # absent when it was invalid itself (reported already)
        if days is not None and storage.raw_retention_h > days * 24:
            raise ValueError(
                f"raw_retention_h ({storage.raw_retention_h:g}) must not exceed retention_days in hours ({days * 24:g})"
            )
        return storage

    @model_validator(mode="after")
    def _routes_name_services(self) -> Settings:
        problem = self.notifications.unknown_services({s.name for s in self.services})
        if problem:
            raise ValueError(problem)
        return self

    def service(self, name: str) -> ServiceSettings | None:
        """The service called `name`, or None."""
        return next((s for s in self.services if s.name == name), None)
