"""The page layout (a placeholder until the dashboard issue lands)."""

from __future__ import annotations

from dash import html


def page_layout(snapshot: dict) -> html.Div:
    """A minimal page: overall status and one line per service."""
    services = snapshot.get("services", [])
    return html.Div(
        [
            html.H1("Mission Control"),
            html.P(f"Overall: {snapshot.get('overall', 'pending')}"),
            html.Ul([html.Li(f"{s['name']}: {s['status']}") for s in services]),
        ]
    )
