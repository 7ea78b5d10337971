"""Security headers on every HTTP answer, with a Content-Security-Policy that Dash still runs under."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request


def script_hash(source: str) -> str:
    """The CSP source expression allowing one inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def content_security_policy(script_hashes: Iterable[str], ws_origins: Iterable[str]) -> str:
    # Inline *styles* are needed: Dash and plotly set style attributes on every element.
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(sorted(set(script_hashes))),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self' " + " ".join(ws_origins),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def install_security_headers(app: Flask, inline_scripts: Callable[[], list[str]], ws_port: Callable[[], int | None]):
    """Add the headers after every request; `inline_scripts` gives the CSP hashes (known once Dash is built)."""
    cache: dict[str, list[str]] = {}

    @app.after_request
    def _headers(response: Response) -> Response:
        if "hashes" not in cache:
            cache["hashes"] = inline_scripts()
        host = urlsplit(f"//{request.host}").hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        port = ws_port()
        sockets = [f"ws://{host}:{port}", f"wss://{host}:{port}"] if port else []
        response.headers.setdefault("Content-Security-Policy", content_security_policy(cache["hashes"], sockets))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Not "no-referrer": with it Chrome sends `Origin: null` on our own login form.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def install_cross_site_guard(app: Flask) -> None:
    """Refuse state changes another site's page makes the browser send, auth or no auth.

    Without auth, loopback is not a wall: any page the operator opens can POST to 127.0.0.1. Browsers
    send Origin (and Sec-Fetch-Site) with every cross-site POST, so checking them refuses such a page
    while curl and scripts, which send neither, keep working.
    """

    @app.before_request
    def _same_site_only() -> Response | None:
        from dash_app.errors import error_response

        if request.method not in STATE_CHANGING:
            return None
        origin = request.headers.get("Origin")
        cross = request.headers.get("Sec-Fetch-Site") == "cross-site"
        if cross or (origin and origin != "null" and urlsplit(origin).netloc != request.host):
            return error_response(403, "cross-site request refused", {"origin": origin})
        if origin == "null":
            return error_response(403, "cross-site request refused", {"origin": origin})
        return None
