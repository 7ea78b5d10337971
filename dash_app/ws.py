"""The WebSocket view on its own port: the current snapshot on connect, then every event."""

from __future__ import annotations

import logging
import re
import socket
import struct
import threading

from flask import Flask, g
from flask_sock import Sock

from dash_app.auth import Revocations, configure_session, ws_allowed
from dash_app.errors import error_response
from dash_app.hosts import HostPolicy, install_host_guard
from ops.core import Core
from ops.events import CLOSED

log = logging.getLogger(__name__)

PING_INTERVAL_S = 20  # a client that stops answering pings is dropped (half-open connections)
MAX_CLIENT_MESSAGE = 4096  # clients have nothing to say to us beyond a small hello
SWEEP_PREFIX = '{"type":"sweep"'
TOKEN_RE = re.compile(r"token=[^&\s\"']+")


def create_ws_app(
    core: Core, secret_key: bytes, hosts: HostPolicy | None = None, revoked: Revocations | None = None
) -> Flask:
    """A small Flask app serving only /ws (it runs under Werkzeug, which flask-sock needs)."""
    app = Flask("mission_control_ws")
    install_host_guard(app, hosts or HostPolicy())  # a rebinding page gets no upgrade
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, MaskTokens) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(MaskTokens())
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": PING_INTERVAL_S, "max_message_size": MAX_CLIENT_MESSAGE}
    auth = core.settings.auth
    configure_session(app, secret_key, auth)  # reads the page's session cookie (cookies ignore ports)
    sock = Sock(app)

    admitted = Admission(auth.max_ws_clients)

    @app.before_request
    def _checks():
        refused = ws_allowed(auth, revoked)
        if refused is None and not admitted.enter():
            refused = error_response(503, "too many WebSocket clients", {"max": auth.max_ws_clients})
        g.admitted = refused is None
        return refused

    @app.teardown_request
    def _leave(_exc) -> None:
        if g.pop("admitted", False):
            admitted.leave()

    @sock.route("/ws")
    def stream(ws) -> None:
        # Subscribe before reading the snapshot, so nothing made in between is missed.
        # Room for a whole sweep's news (one result per service, then the sweep message) and more:
        # results come in a burst, and a client that overflows is sent the full snapshot again.
        subscription = core.bus.subscribe(maxlen=max(core.bus.queue_size, 2 * len(core.settings.services) + 64))
        limit_send_time(ws)
        try:
            dropped = subscription.dropped  # before the (large) first message: a loss while it is sent counts
            ws.send(core.monitor.snapshot_text())
            relay(ws, subscription, core.monitor.snapshot_text, dropped)
        finally:
            subscription.close()

    @app.get("/")
    def index() -> tuple[str, int]:
        return "WebSocket endpoint: ws://HOST:PORT/ws\n", 200

    return app


SEND_TIMEOUT_S = 10  # a client whose buffers stay full this long is gone or hostile: drop it


def limit_send_time(ws) -> None:
    """A blocked send raises after SEND_TIMEOUT_S (SO_SNDTIMEO; reads keep their own timing)."""
    sock = getattr(ws, "sock", None)
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", SEND_TIMEOUT_S, 0))


class Admission:
    """Counts admitted clients atomically, so concurrent handshakes cannot exceed the cap."""

    def __init__(self, limit: int) -> None:
        self.limit, self.count = limit, 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.count >= self.limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.count -= 1


class MaskTokens(logging.Filter):
    """Access logs must not carry the API key a client put in the WebSocket URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(TOKEN_RE.sub("token=***", a) if isinstance(a, str) else a for a in record.args)
        record.msg = TOKEN_RE.sub("token=***", str(record.msg))
        return True


def relay(ws, subscription, snapshot_text, dropped: int = 0) -> None:
    """Forward events until the client or the server goes away; only this thread writes to `ws`.

    Sweep messages carry only the views that changed: a client whose queue overflowed (it lost its
    oldest messages) gets the full snapshot instead of the next sweep message, so a view it missed
    the news of is mended by the end of that sweep at the latest.
    """
    while ws.connected:
        message = subscription.get(timeout=1.0)
        if message is CLOSED:
            ws.close(reason=1001, message="server shutting down")
            return
        if message and subscription.dropped != dropped and message.startswith(SWEEP_PREFIX):
            dropped = subscription.dropped
            message = snapshot_text()  # made with this sweep message (or later): every view, current
        if message:
            ws.send(message)
        # Discard anything the client sent, so its input never piles up in memory.
        while ws.connected and ws.receive(timeout=0) is not None:
            pass
