"""The composition root: builds the core and its three views; no module-level app or state."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config.settings import Settings
from dash_app.api import api_blueprint
from dash_app.auth import Guard, Revocations, action_callbacks, load_or_create_secret
from dash_app.compression import install_compression
from dash_app.dashboard import HEAD_SCRIPT, build_dashboard
from dash_app.edge import RESERVE_FDS
from dash_app.errors import register_error_handlers
from dash_app.hosts import HostPolicy, install_host_guard
from dash_app.notifications_api import notifications_blueprint
from dash_app.params import MAX_BODY_BYTES
from dash_app.prometheus import register_prometheus
from dash_app.proxies import TrustedProxies
from dash_app.security import install_cross_site_guard, install_security_headers, script_hash
from dash_app.servers import HttpServer, WebSocketServer, connection_caps
from dash_app.sparks_api import sparks_blueprint
from dash_app.uptime_api import uptime_blueprint
from dash_app.ws import create_ws_app
from layouts import ids
from ops.core import Core

log = logging.getLogger(__name__)

# Page controls whose clicks change state: with auth on they need a logged-in session.
ACTION_IDS = (
    ids.CHECK_NOW, ids.DETAILS_CHECK, ids.RECOVER_CONFIRM, ids.CLEAR_CONFIRM, ids.MAINT_SWITCH, ids.NOTIFY_TEST,
)  # fmt: skip


class MissionControl:
    """One running dashboard: the core, the HTTP app (Dash + /api) and the WebSocket app."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.http: HttpServer | None = None
        self.ws: WebSocketServer | None = None
        secret = load_or_create_secret(core.data_dir)
        ws_port = lambda: self.ws.port if self.ws else None  # noqa: E731 - known only once bound
        self.server = Flask("mission_control")
        self.gzip_cache = install_compression(self.server)  # the first after-request hook: it runs last
        self.server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # larger bodies: 413 (JSON under /api)
        auth = core.settings.auth
        self.hosts = HostPolicy(auth.allowed_hosts, auth.allowed_origins)  # serve() adds the bind address
        self.revoked = Revocations(core.data_dir / "revoked_sessions.json")  # logouts survive a restart
        if auth.trusted_proxies:  # client addresses (rate limits) from X-Forwarded-For of those peers only
            self.server.wsgi_app = TrustedProxies(self.server.wsgi_app, auth.trusted_proxies)
        install_host_guard(self.server, self.hosts)  # first of all: a rebinding page gets nothing at all
        install_cross_site_guard(self.server)  # auth or not: another site's page can change nothing
        if auth.enabled:  # first: nothing below answers an unauthorised request
            actions = lambda: action_callbacks(self.dash.callback_map, ACTION_IDS)  # noqa: E731
            Guard(auth, actions, self.revoked).install(self.server, secret)
        register_error_handlers(self.server)
        api = api_blueprint(core, ws_port=ws_port)
        api.register_blueprint(notifications_blueprint(core))  # nested: /api/notifications, endpoints api.*
        api.register_blueprint(sparks_blueprint(core))  # nested: /api/sparks (the page's sparklines)
        api.register_blueprint(uptime_blueprint(core))  # nested: /api/uptime (windows up to 90 days)
        self.server.register_blueprint(api)
        self.metrics_registry, checks = register_prometheus(self.server, core)  # GET /metrics
        core.monitor.result_listeners.append(checks.on_result)  # after recovery's (see ops/core.py)
        self.dash = build_dashboard(self.server, core, ws_port)
        install_security_headers(self.server, lambda: [*self.dash.csp_hashes(), script_hash(HEAD_SCRIPT)], ws_port)
        self.ws_app = create_ws_app(core, secret, self.hosts, self.revoked)

    def serve(self, host: str = "127.0.0.1", port: int = 9993, ws_port: int = 9994) -> None:
        """Bind both ports (0 picks free ones), then start serving; raises PortInUse."""
        settings = self.core.settings
        self.hosts.bind(host)
        # Descriptors: the hard limit, less a reserve that clients never get (probes, files, commands).
        caps = connection_caps(reserve=max(RESERVE_FDS, 2 * settings.max_concurrency + 128))
        trusted = bool(settings.auth.trusted_proxies)
        self.http = HttpServer(self.server, host, port, trust_forwarded=trusted, caps=caps)
        try:
            self.ws = WebSocketServer(self.ws_app, host, ws_port, caps=caps, max_clients=settings.auth.max_ws_clients)
        except Exception:
            self.http.stop()
            raise
        self.http.start()
        self.ws.start()
        log.info(
            "dashboard and API on http://%s:%d/  WebSocket on ws://%s:%d/ws", host, self.http.port, host, self.ws.port
        )

    def stop(self) -> None:
        """Stop the loop (history flushed), then the listeners; safe to call twice."""
        self.core.stop()
        for server in (self.ws, self.http):
            if server is not None:
                server.stop()
        self.ws = self.http = None


def create_app(
    settings: Settings,
    *,
    data_dir: str | Path = "data",
    history_path: str | Path | None = None,
    start_monitor: bool = True,
    demo=None,
) -> MissionControl:
    """Build everything for `settings`; the monitor loop runs unless start_monitor is False.

    With a PostgreSQL history (the config's storage section) several dashboards share it: one leads
    (probes, recovers), the others follow (ops/core.py, ops/leader.py, ops/live_relay.py)."""
    core = Core(settings, data_dir, history_path, demo=demo)
    core.start(run_loop=start_monitor)
    return MissionControl(core)
