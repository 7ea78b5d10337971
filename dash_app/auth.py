"""Who may do what: API keys for clients, a login session for the page, CSRF for the page's actions.

Without configured auth none of this is installed (and the CLI refuses a non-loopback bind).
With it, every state-changing request needs the key or a logged-in session with its CSRF token;
with `protect_reads` every read does too.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable

from flask import Flask, Response, request, session

from config.auth import AuthSettings
from dash_app.errors import error_response
from dash_app.login import register_login_routes
from dash_app.ratelimit import RateLimiter
from dash_app.sessions import (  # noqa: F401 - re-exported: callers and tests import them from here
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    Revocations,
    configure_session,
    csrf_ok,
    ensure_csrf_token,
    key_matches,
    presented_key,
    session_user,
)

log = logging.getLogger(__name__)

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# Exact routes: Dash answers every other GET path (even GET /logout) with its page and its data.
PUBLIC_ROUTES = {("/login", "GET"), ("/login", "POST"), ("/logout", "POST"), ("/_favicon.ico", "GET")}
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
DASH_UPDATE = "/_dash-update-component"


def requested_callback() -> str:
    """The output key of the Dash callback this request asks to run (what Dash dispatches on)."""
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
        return str(body.get("output", "")) if isinstance(body, dict) else ""
    except ValueError:
        return ""


def action_callbacks(callback_map: dict, action_ids: Iterable[str]) -> set[str]:
    """Output keys of the callbacks that an action control fires. Guarding the callback itself (not
    the ids a request says changed) means a hand-made request cannot reach it by leaving those out."""
    wanted = set(action_ids)
    return {key for key, spec in callback_map.items() if any(i.get("id") in wanted for i in spec.get("inputs", []))}


class Guard:
    """Installs the checks on one Flask app."""

    def __init__(
        self, auth: AuthSettings, action_callbacks: Callable[[], set[str]] = set, revoked: Revocations | None = None
    ) -> None:
        self.auth = auth
        self.revoked = revoked if revoked is not None else Revocations()  # logged-out sessions (see /logout)
        self.action_callbacks = action_callbacks  # output keys of the Dash callbacks that change state
        self._actions_known: set[str] | None = None
        self.actions = RateLimiter(auth.actions_per_minute)
        self.logins = RateLimiter(auth.login_per_minute)

    def install(self, app: Flask, secret_key: bytes) -> None:
        configure_session(app, secret_key, self.auth)
        register_login_routes(app, self)
        app.before_request(self.check)
        app.after_request(self.set_csrf_cookie)

    def check(self) -> Response | None:
        """Allow, or answer 401/403/429 in the API's JSON shape (the page redirects to /login)."""
        path, method = request.path, request.method
        if (path, "GET" if method == "HEAD" else method) in PUBLIC_ROUTES or path.startswith(PUBLIC_PREFIXES):
            return None
        by_key = key_matches(self.auth, presented_key(request.headers))
        user = "api-key" if by_key else session_user(self.auth, self.revoked)
        changing = method in STATE_CHANGING and path != DASH_UPDATE or self._dash_action()
        if changing:
            return self._check_change(by_key, user)
        if self.auth.protect_reads and user is None:
            return self._login_required(path)
        if path == DASH_UPDATE and not csrf_ok():
            return error_response(403, "CSRF token missing or wrong", {"header": CSRF_HEADER})
        return None

    def _dash_action(self) -> bool:
        if request.path != DASH_UPDATE:
            return False
        if self._actions_known is None:  # the callbacks exist once the app is built: ask on first use
            self._actions_known = set(self.action_callbacks())
        return requested_callback() in self._actions_known

    def _check_change(self, by_key: bool, user: str | None) -> Response | None:
        wait = self.actions.hit(client_identity(by_key, user))
        if wait is not None:
            response = error_response(429, "too many requests", {"retry_after_s": wait})
            response.headers["Retry-After"] = str(int(wait))
            return response
        if by_key:
            return None  # a key is not sent by browsers on their own: no CSRF risk
        if user is None:
            return self._login_required(request.path)
        if not csrf_ok():
            return error_response(403, "CSRF token missing or wrong", {"header": CSRF_HEADER})
        return None

    def _login_required(self, path: str) -> Response:
        if request.method == "GET" and path in ("/", "") and "text/html" in request.headers.get("Accept", ""):
            return Response(status=302, headers={"Location": "/login"})
        response = error_response(401, "authentication required", {"how": "Authorization: Bearer <key>, or log in"})
        response.headers["WWW-Authenticate"] = 'Bearer realm="mission-control"'
        return response

    def set_csrf_cookie(self, response: Response) -> Response:
        token = ensure_csrf_token()
        if request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, samesite="Strict", secure=self.auth.secure_cookies, httponly=False)
        return response


def client_identity(by_key: bool, user: str | None) -> str:
    """The rate-limit bucket: the key holder, a logged-in user, or an anonymous client address.

    Anonymous traffic never fills an authenticated caller's bucket. The address is the peer's, or
    the client's from X-Forwarded-For only when the peer is a trusted proxy (dash_app/proxies.py).
    """
    if by_key:
        return "key"
    if user is not None:
        return f"user:{user}"
    return f"addr:{request.remote_addr or '?'}"


def ws_allowed(auth: AuthSettings, revoked: Revocations | None = None) -> Response | None:
    """The WebSocket's checks, run before the upgrade: origin, then session or token."""
    origin = request.headers.get("Origin")
    if origin and not origin_ok(origin, request.host, auth.allowed_origins):
        return error_response(403, "origin not allowed", {"origin": origin})
    if not auth.enabled:
        return None
    token = request.args.get("token") or presented_key(request.headers)
    if key_matches(auth, token):
        return None
    if auth.protect_reads and session_user(auth, revoked or Revocations()) is None or "csrf" not in session:
        return error_response(401, "authentication required", {"how": "open the page, or ?token=<key>"})
    return None


def origin_ok(origin: str, host: str, allowed: Iterable[str]) -> bool:
    """Same host name as the request (any port: the page and the socket differ), or allow-listed."""
    from urllib.parse import urlsplit

    if origin.rstrip("/") in allowed:
        return True
    return urlsplit(origin).hostname == urlsplit(f"//{host}").hostname


def load_or_create_secret(data_dir) -> bytes:
    """The session-signing key, kept in the data dir (mode 0600) so logins survive a restart.

    If it cannot be written (a full disk), an in-memory key with a warning: logins then end at the
    next restart, which beats a dashboard that does not start while the disk is full.
    """
    import os
    from pathlib import Path

    path = Path(data_dir) / "session_secret"
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    except OSError:
        pass
    secret = secrets.token_bytes(48)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secret)
        os.replace(tmp, path)  # never a short key file: the next start would not trust it and make another
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.warning("%s: cannot save the session key (%s); using one in memory: logins end at restart", path, exc)
    return secret
