"""The summary cards: fleet figures at a glance, thresholds highlighted when crossed."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts.common import NO_VALUE, fmt_ms, fmt_pct, icon


def _card(key: str, label: str, glyph: str, value: str, sub: str, alert: bool = False) -> dbc.Col:
    body = html.Div(
        [
            html.Div([icon(glyph), label], className="mc-card-label"),
            html.Div(value, className="mc-card-value"),
            html.Div(sub, className="mc-card-sub text-danger-emphasis fw-semibold" if alert else "mc-card-sub"),
        ],
        className=f"mc-card card h-100{' border-danger mc-alert' if alert else ''}",
        **{"data-card": key},
    )
    return dbc.Col(body, xs=6, md=4, xl=2)


def _usage(key: str, label: str, glyph: str, percent: float | None, limit: float | None, over: bool) -> dbc.Col:
    value = NO_VALUE if percent is None else f"{percent:.0f} %"
    sub = f"limit {limit:.0f} %" if limit is not None else ""
    if over:
        sub = f"over the {limit:.0f} % limit"
    return _card(key, label, glyph, value, sub, alert=over)


# What the "Services up" card says of the services that are not up, worst first (ops/fleet.py SEVERITY).
NOT_UP = (("down", "down"), ("degraded", "degraded"), ("pending", "pending"), ("maintenance", "in maintenance"))


def fleet_text(summary: dict) -> str:
    """The card's line under "up / total", from the server's counts and overall (never our own sums)."""
    counts = summary.get("counts") or {}
    if not summary.get("total"):
        return "no services"
    if summary.get("overall") == "maintenance":
        return "all in maintenance"
    return ", ".join(f"{counts[key]} {word}" for key, word in NOT_UP if counts.get(key)) or "all healthy"


def summary_cards(summary: dict) -> list[dbc.Col]:
    """Children of the CARDS row, from a dict made by callbacks.summary.summary_from()."""
    up, total = summary.get("up", 0), summary.get("total", 0)
    down = (summary.get("counts") or {}).get("down", 0)
    recoveries = summary.get("recoveries_24h")
    return [
        _card("services", "Services up", "up", f"{up} / {total}", fleet_text(summary), alert=bool(down)),
        _card("uptime", "Uptime 24 h", "history", fmt_pct(summary.get("uptime_24h")), "fleet average"),
        _card("p95", "p95 latency", "bolt", fmt_ms(summary.get("p95_1h")), "last hour, all services"),
        _card(
            "recoveries",
            "Recoveries 24 h",
            "recovering",
            NO_VALUE if recoveries is None else str(recoveries),
            summary.get("recoveries_note", "attempts logged"),
        ),
        _usage("cpu", "CPU", "cpu", summary.get("cpu"), summary.get("cpu_max"), bool(summary.get("cpu_over"))),
        _usage("memory", "Memory", "memory", summary.get("mem"), summary.get("mem_max"), bool(summary.get("mem_over"))),
    ]
