"""The login form: a plain page served by Flask (Bootstrap from our own assets), a session cookie."""

from __future__ import annotations

import secrets
import time
from html import escape

from flask import Flask, Response, redirect, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from dash_app.head import HEAD_SCRIPT
from dash_app.sessions import csrf_ok, ensure_csrf_token, key_matches

# Compared against when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))

# The page's own head script (the same bytes, so the CSP's hash admits it) sets the colour mode the
# dashboard uses before the first paint: the login page follows the theme too.
PAGE = (
    """<!doctype html>
<html lang="en" data-bs-theme="light">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><script>"""
    + HEAD_SCRIPT.replace("{", "{{").replace("}", "}}")
    + """</script>
<title>Log in · Mission Control</title><link rel="stylesheet" href="/assets/00_bootstrap.min.css"></head>
<body class="bg-body-tertiary">
<main class="d-flex align-items-center justify-content-center" style="min-height:100vh">
<form method="post" action="/login" class="card p-4" style="width:min(360px,92vw)">
  <h1 class="h4 mb-3">Mission Control</h1>
  {message}
  <input type="hidden" name="csrf" value="{csrf}">
  <label class="form-label" for="username">User</label>
  <input class="form-control mb-2" id="username" name="username" autocomplete="username" autofocus>
  <label class="form-label" for="password">Password (or the API key, with no user)</label>
  <input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password">
  <button class="btn btn-primary w-100" type="submit">Log in</button>
</form></main></body></html>"""
)


def login_page(message: str = "", status: int = 200) -> Response:
    alert = f'<div class="alert alert-danger py-2" role="alert">{escape(message)}</div>' if message else ""
    html = PAGE.format(message=alert, csrf=escape(ensure_csrf_token()))
    return Response(html, status=status, mimetype="text/html")


def check_credentials(guard, username: str, password: str) -> str | None:
    """The user name that these credentials prove, or None."""
    if not username and key_matches(guard.auth, password):
        return "api-key"
    user = next((u for u in guard.auth.users if u.username == username), None)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    return user.username if user and ok else None


def register_login_routes(app: Flask, guard) -> None:
    """GET/POST /login and POST /logout on `app`."""

    @app.get("/login")
    def login_form() -> Response:
        return login_page()

    @app.post("/login")
    def login_submit() -> Response:
        wait = guard.logins.hit(request.remote_addr or "?")  # the client's, via a trusted proxy only
        if wait is not None:
            response = login_page(f"Too many attempts; try again in {int(wait)} s.", 429)
            response.headers["Retry-After"] = str(int(wait))
            return response
        if not csrf_ok():
            return login_page("The form expired; please try again.", 403)
        user = check_credentials(guard, request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            return login_page("Wrong user or password.", 401)
        session.clear()  # a new session on login: no fixation
        session.update(user=user, sid=secrets.token_urlsafe(16), at=time.time())
        ensure_csrf_token()
        return redirect("/")

    @app.post("/logout")
    def logout() -> Response:
        if csrf_ok():
            if session.get("sid"):  # a copy of this cookie is worth nothing now, even after a restart
                guard.revoked.revoke(session["sid"], float(session.get("at", time.time())))
            session.clear()
        return redirect("/login")
