"""Who a request is: the API key it presents, its login session, its CSRF token, revoked sessions.

The primitives that the auth guard (dash_app/auth.py), the login form (dash_app/login.py) and the
WebSocket share; they import this module and never each other the other way round.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path

from flask import Flask, request, session

from config.auth import AuthSettings

log = logging.getLogger(__name__)

CSRF_COOKIE = "_csrf_token"  # the cookie Dash's renderer copies into the X-CSRFToken header
CSRF_HEADER = "X-CSRFToken"
SESSION_COOKIE = "mc_session"
SESSION_MAX_AGE_S = 12 * 3600


def presented_key(headers) -> str | None:
    """The API key a client sent: `Authorization: Bearer K` or `X-API-Key: K`."""
    authorization = headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return headers.get("X-API-Key")


def key_matches(auth: AuthSettings, given: str | None) -> bool:
    """Constant-time comparison with the configured key."""
    if not auth.api_key or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), auth.api_key.encode())


class Revocations:
    """Session ids logged out before their 12 hours ran out (the cookie alone cannot be recalled).

    Kept in a small JSON file ({sid: when the session would have expired anyway}) so a restart
    keeps them; entries past that time are dropped, so the file never grows beyond 12 hours of logouts.
    """

    def __init__(self, path: str | Path | None = None, clock=time.time) -> None:
        self._path = Path(path) if path is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._ids: dict[str, float] = self._load()

    def _load(self) -> dict[str, float]:
        if self._path is None:
            return {}
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            now = self._clock()
            return {str(k): float(v) for k, v in data.items() if float(v) > now}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("%s: unreadable (%s); starting with no revoked sessions", self._path, exc)
            return {}

    def revoke(self, sid: str, started_at: float) -> None:
        with self._lock:
            now = self._clock()
            self._ids = {k: v for k, v in self._ids.items() if v > now}
            self._ids[sid] = started_at + SESSION_MAX_AGE_S
            self._save(dict(self._ids))

    def _save(self, ids: dict[str, float]) -> None:
        if self._path is None:
            return
        tmp = self._path.with_name(self._path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(ids), encoding="utf-8")
            os.replace(tmp, self._path)
        except OSError as exc:  # the revocation still holds in memory until a restart
            log.warning("%s: cannot save revoked sessions (%s)", self._path, exc)

    def __contains__(self, sid: object) -> bool:
        with self._lock:
            return sid in self._ids


def session_user(auth: AuthSettings, revoked: Revocations) -> str | None:
    """The logged-in user of this request's session, if still configured, not logged out, not too old."""
    user = session.get("user")
    if user is None or session.get("sid") in revoked or time.time() - session.get("at", 0) > SESSION_MAX_AGE_S:
        return None
    if user == "api-key" and auth.api_key:
        return user
    return user if any(u.username == user for u in auth.users) else None


def ensure_csrf_token() -> str:
    """Every session gets one random token; the page echoes it back in a header."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or request.form.get("csrf", "")
    return bool(expected) and hmac.compare_digest(str(given), str(expected))


def configure_session(app: Flask, secret_key: bytes, auth: AuthSettings) -> None:
    """The same signed cookie on the HTTP and the WebSocket app (cookies are shared across ports)."""
    app.secret_key = secret_key
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=auth.secure_cookies,
    )
