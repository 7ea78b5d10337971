"""The Dash page, mounted on the same Flask server as the API: layout + one callback module per area."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dash
from flask import Flask, Response, send_file

from callbacks import actions, details, export, header, notifications, recovery, summary, table, url
from callbacks.common import request_tz
from callbacks.view import initial_view
from dash_app.head import HEAD_SCRIPT
from layouts.page import page_layout
from ops.core import Core

ASSETS = Path(__file__).with_name("assets")
# plotly.js is needed only by the details chart, so it is not a page script (its ~0.5 s of parsing
# would delay the first rows): dcc.Graph loads it from Dash's URL for it, where we serve the small
# vendored basic bundle, and 30_mc_live.js fetches it ahead once the rows are painted.
PLOTLY_BUNDLE = next(ASSETS.glob("plotly-basic-*.min.js"))
PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"  # window._dashPlotlyJSURL
CALLBACK_MODULES = (header, summary, table, details, actions, recovery, notifications, export, url)

INDEX = f"""<!DOCTYPE html>
<html lang="en" data-bs-theme="light">
<head>
{{%metas%}}
<title>{{%title%}}</title>
<meta name="color-scheme" content="light dark">
<script>{HEAD_SCRIPT}</script>
{{%favicon%}}
<link rel="icon" type="image/svg+xml" href="/assets/favicon.svg">
{{%css%}}
</head>
<body>
{{%app_entry%}}
<footer>{{%config%}}{{%scripts%}}{{%renderer%}}</footer>
</body>
</html>"""


def build_dashboard(server: Flask, core: Core, ws_port: Callable[[], int | None] = lambda: None) -> dash.Dash:
    """A Dash app on `server`; every asset is served locally (no CDN). `ws_port()`: where the socket listens."""
    app = dash.Dash(
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
    serve_plotly(server)
    app.layout = lambda: page_layout(initial_view(core, request_tz(), ws_port()))
    for module in CALLBACK_MODULES:
        module.register_callbacks(app, core)
    return app


def serve_plotly(server: Flask) -> None:
    """The vendored basic bundle where dcc.Graph looks for plotly.js when the page has none."""

    @server.get(PLOTLY_URL)
    def plotly_js() -> Response:
        return send_file(PLOTLY_BUNDLE, mimetype="text/javascript", max_age=3600, conditional=True, etag=True)
