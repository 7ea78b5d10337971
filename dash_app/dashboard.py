"""The Dash page, mounted on the same Flask server as the API."""

from __future__ import annotations

from pathlib import Path

import dash
from flask import Flask

from layouts.page import page_layout
from ops.core import Core

ASSETS = Path(__file__).with_name("assets")


def build_dashboard(server: Flask, core: Core) -> dash.Dash:
    """A Dash app on `server`; every asset is served locally (no CDN)."""
    app = dash.Dash(
        "mission_control_dash",
        server=server,
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="Mission Control",
        update_title=None,
    )
    app.layout = lambda: page_layout(core.monitor.snapshot())
    return app
