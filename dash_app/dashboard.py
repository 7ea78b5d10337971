"""The Dash page, mounted on the same Flask server as the API: layout + one callback module per area."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

import dash
from flask import Flask, Response, send_file

from callbacks import actions, details, export, header, notifications, recovery, summary, table, url
from callbacks.common import request_tz
from callbacks.view import first_view_query, initial_view, table_view
from dash_app.head import HEAD_SCRIPT
from dash_app.security import script_hash
from layouts.page import live_config, page_layout
from ops.core import Core

ASSETS = Path(__file__).with_name("assets")
# plotly.js is needed only by the details chart, so it is not a page script (its ~0.5 s of parsing
# would delay the first rows): dcc.Graph loads it from Dash's URL for it, where we serve the small
# vendored basic bundle, and 30_mc_live.js fetches it ahead once the rows are painted.
PLOTLY_BUNDLE = next(ASSETS.glob("plotly-basic-*.min.js"))
PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"  # window._dashPlotlyJSURL
CALLBACK_MODULES = (header, table, details, actions, recovery, notifications, export, url)

# The page's second inline script (its CSP hash: PageDash.csp_hashes), after HEAD_SCRIPT has set the
# zone cookie: while Dash's ~1 s of scripts load it asks for their layout and callbacks (the renderer's
# own requests then find them preloaded), opens the WebSocket, keeping its messages for
# 30_mc_live_early_start.js, and asks for the sparklines of the rows a large fleet shows first
# (21_mc_sparks.js adoptEarly): after the socket's first snapshot they would reach a page already busy
# starting Dash. The meta tag before it gives the path prefix, the socket's port and that /api/sparks
# query (callbacks/view.py).
EARLY_SCRIPT = (
    "(function(){var d=document,m=d.querySelector('meta[name=\"mc-early\"]'),c=(m&&m.content||'').split(' '),"
    "p=c[0]||'/';['_dash-layout','_dash-dependencies'].forEach(function(u){var l=d.createElement('link');"
    "l.rel='preload';l.as='fetch';l.crossOrigin='anonymous';l.href=p+u;d.head.appendChild(l)});"
    "if(!(c[1]>0)||!window.WebSocket)return;var e=window.mcEarly={messages:[]};"
    "if(c[2]&&window.fetch)e.sparks={query:c[2],answer:fetch(p+'api/sparks?'+c[2],{cache:'no-store'})"
    ".then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.json()})};"
    "try{e.ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.hostname+':'+c[1]+'/ws');"
    "e.ws.onmessage=function(x){e.messages.push(x.data)}}catch(x){}})();"
)

INDEX = f"""<!DOCTYPE html>
<html lang="en" data-bs-theme="light">
<head>
{{%metas%}}
<title>{{%title%}}</title>
<meta name="color-scheme" content="light dark">
<script>{HEAD_SCRIPT}</script>
<meta name="mc-early" content="{{%mc_early_head%}}">
<script>{EARLY_SCRIPT}</script>
{{%favicon%}}
<link rel="icon" type="image/svg+xml" href="/assets/favicon.svg">
{{%css%}}
</head>
<body>
<script id="mc-early" type="application/json">{{%mc_early%}}</script>
{{%app_entry%}}
<footer>{{%config%}}{{%scripts%}}{{%renderer%}}</footer>
</body>
</html>"""


class PageDash(dash.Dash):
    """Dash, with what the rows need in the page itself: the path prefix and the socket's port for
    EARLY_SCRIPT, and the table's configuration as JSON (data, which the CSP need not admit), so
    30_mc_live_early_start.js draws the rows as soon as Dash has rendered the table's empty body, not
    after its renderer's first callbacks (a few hundred ms of script later)."""

    early: Callable[[], dict] = staticmethod(lambda: {})
    first_view: Callable[[], str] = staticmethod(lambda: "")  # the rows' /api/sparks query, URL-encoded

    def interpolate_index(self, **kwargs) -> str:
        early = self.early()
        data = json.dumps(early, separators=(",", ":")).replace("<", "\\u003c")  # no "</script>"
        parts = (self.config.requests_pathname_prefix, str(early.get("ws_port") or ""), self.first_view())
        head = html.escape(" ".join(parts))
        page = super().interpolate_index(**kwargs)
        return page.replace("{%mc_early_head%}", head).replace("{%mc_early%}", data)

    def csp_hashes(self, hash_algorithm: str = "sha256") -> list[str]:
        return [*super().csp_hashes(hash_algorithm), script_hash(EARLY_SCRIPT)]


def build_dashboard(server: Flask, core: Core, ws_port: Callable[[], int | None] = lambda: None) -> dash.Dash:
    """A Dash app on `server`; every asset is served locally (no CDN). `ws_port()`: where the socket listens."""
    app = PageDash(
        "mission_control_dash",
        server=server,
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="Mission Control",
        update_title=None,
        index_string=INDEX,
        assets_ignore=r"^plotly-basic-",
        meta_tags=[{"name": "description", "content": "Health and recovery dashboard"}],
    )
    app.early = lambda: live_config(
        interval_s=core.monitor.interval, table=table_view(len(core.service_names())), ws_port=ws_port()
    )
    app.first_view = lambda: first_view_query(core.monitor.snapshot())
    serve_plotly(server)
    p95 = summary.SweepP95(core.store)  # once per sweep, for the cards and every page load
    app.layout = lambda: page_layout(initial_view(core, request_tz(), ws_port(), p95))
    summary.register_callbacks(app, core, p95)
    for module in CALLBACK_MODULES:
        module.register_callbacks(app, core)
    return app


def serve_plotly(server: Flask) -> None:
    """The vendored basic bundle where dcc.Graph looks for plotly.js when the page has none."""

    @server.get(PLOTLY_URL)
    def plotly_js() -> Response:
        return send_file(PLOTLY_BUNDLE, mimetype="text/javascript", max_age=3600, conditional=True, etag=True)
