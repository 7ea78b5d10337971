"""The Dash page, mounted on the same Flask server as the API: layout + one callback module per area."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dash
from flask import Flask

from callbacks import actions, details, export, header, notifications, recovery, summary, table, url
from callbacks.common import request_tz
from callbacks.view import initial_view
from dash_app.head import HEAD_SCRIPT
from layouts.page import page_layout
from ops.core import Core

ASSETS = Path(__file__).with_name("assets")
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
        meta_tags=[{"name": "description", "content": "Health and recovery dashboard"}],
    )
    app.layout = lambda: page_layout(initial_view(core, request_tz(), ws_port()))
    for module in CALLBACK_MODULES:
        module.register_callbacks(app, core)
    return app
