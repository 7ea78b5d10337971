"""The WebSocket view on its own port: the current snapshot on connect, then every event."""

from __future__ import annotations

import logging

from flask import Flask
from flask_sock import Sock

from ops.core import Core
from ops.events import CLOSED

log = logging.getLogger(__name__)

PING_INTERVAL_S = 20  # a client that stops answering pings is dropped (half-open connections)
MAX_CLIENT_MESSAGE = 4096  # clients have nothing to say to us beyond a small hello


def create_ws_app(core: Core) -> Flask:
    """A small Flask app serving only /ws (it runs under Werkzeug, which flask-sock needs)."""
    app = Flask("mission_control_ws")
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": PING_INTERVAL_S, "max_message_size": MAX_CLIENT_MESSAGE}
    sock = Sock(app)

    @sock.route("/ws")
    def stream(ws) -> None:
        # Subscribe before reading the snapshot, so nothing made in between is missed.
        subscription = core.bus.subscribe()
        try:
            ws.send(core.monitor.snapshot_text())
            relay(ws, subscription)
        finally:
            subscription.close()

    @app.get("/")
    def index() -> tuple[str, int]:
        return "WebSocket endpoint: ws://HOST:PORT/ws\n", 200

    return app


def relay(ws, subscription) -> None:
    """Forward events until the client or the server goes away; only this thread writes to `ws`."""
    while ws.connected:
        message = subscription.get(timeout=1.0)
        if message is CLOSED:
            ws.close(reason=1001, message="server shutting down")
            return
        if message:
            ws.send(message)
        # Discard anything the client sent, so its input never piles up in memory.
        while ws.connected and ws.receive(timeout=0) is not None:
            pass
