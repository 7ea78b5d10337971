"""The Dash page, mounted on the same Flask server as the API: layout + one callback module per area."""

from __future__ import annotations

from pathlib import Path

import dash
from flask import Flask

from callbacks import actions, details, export, header, recovery, summary, table
from callbacks.common import TZ_COOKIE, request_tz
from callbacks.view import initial_view
from layouts.page import page_layout
from ops.core import Core

ASSETS = Path(__file__).with_name("assets")
CALLBACK_MODULES = (header, summary, table, details, actions, recovery, export)

# Runs in <head> before any CSS: the stored (or the system's) colour mode is set before the first
# paint, so a dark page never flashes white; and the browser's zone goes to the server as a cookie,
# so times on the page are the operator's own.
HEAD_SCRIPT = (
    "(function(){var d=document.documentElement,t=null;"
    "try{t=localStorage.getItem('mc-theme')}catch(e){}"
    "if(t!=='dark'&&t!=='light'){t=window.matchMedia&&matchMedia('(prefers-color-scheme: dark)').matches"
    "?'dark':'light'}d.setAttribute('data-bs-theme',t);"
    "try{document.cookie='" + TZ_COOKIE + "='+encodeURIComponent(Intl.DateTimeFormat().resolvedOptions().timeZone)"
    "+';path=/;SameSite=Lax'}catch(e){}})();"
)

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


def build_dashboard(server: Flask, core: Core) -> dash.Dash:
    """A Dash app on `server`; every asset is served locally (no CDN)."""
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
    app.layout = lambda: page_layout(initial_view(core, request_tz()))
    for module in CALLBACK_MODULES:
        module.register_callbacks(app, core)
    return app
