"""Authentication settings: an API key and/or users with hashed passwords."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

HASH_RE = re.compile(r"^(scrypt|pbkdf2):[^$]+\$[^$]+\$[0-9a-f]+\Z")
HOST_RE = re.compile(r"^(?=.{1,253}\.?\Z)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+\Z")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserSettings(_Strict):
    """One person who may log in to the page."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    # werkzeug.security.generate_password_hash output; never a password in clear.
    password_hash: str

    @field_validator("password_hash")
    @classmethod
    def _is_a_hash(cls, value: str) -> str:
        if not HASH_RE.match(value):
            raise ValueError(
                "must be a werkzeug password hash (scrypt:... or pbkdf2:...); make one with python -m dash_app.passwd"
            )
        return value

    def __repr__(self) -> str:  # the hash stays out of logs and tracebacks
        return f"UserSettings(username={self.username!r})"


class AuthSettings(_Strict):
    """Who may change things (and, with protect_reads, see things)."""

    api_key: str | None = Field(default=None, min_length=16, max_length=256, repr=False)
    users: tuple[UserSettings, ...] = ()
    protect_reads: bool = False
    allowed_origins: tuple[str, ...] = ()  # extra browser origins for the WebSocket; same host always
    # Host names the server is reached by besides loopback (and those of allowed_origins): DNS rebinding.
    allowed_hosts: tuple[str, ...] = ()
    # Peers whose X-Forwarded-For/-Proto are believed (a reverse proxy): addresses or networks.
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False  # set when served over https (behind a TLS proxy)
    max_ws_clients: int = Field(default=100, ge=1, le=10_000)
    login_per_minute: int = Field(default=10, ge=1, le=10_000)
    actions_per_minute: int = Field(default=60, ge=1, le=100_000)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"{origin!r} is not an origin like https://dash.example:8443")
        return tuple(o.rstrip("/") for o in origins)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for host in hosts:
            if not HOST_RE.match(host) and not _is_address(host.strip("[]")):
                raise ValueError(f"{host!r} is not a host name like dash.example (no scheme, no port)")
        return tuple(h.lower().rstrip(".") for h in hosts)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network like 10.0.0.0/8") from None
        return proxies

    @property
    def enabled(self) -> bool:
        return bool(self.api_key or self.users)
