"""Authentication settings: an API key and/or users with hashed passwords."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

HASH_RE = re.compile(r"^(scrypt|pbkdf2):[^$]+\$[^$]+\$[0-9a-f]+\Z")


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

    @property
    def enabled(self) -> bool:
        return bool(self.api_key or self.users)
