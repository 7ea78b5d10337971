"""Offline must look stale, and the page must work again after the reconnect (issue 10, item 3)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import row, wait_for, wait_js

pytestmark = pytest.mark.timeout(60)

BLOCKED = ("**/api/info", "**/api/health", "**/_dash-update-component")


def test_a_dropped_socket_marks_the_data_stale_and_check_now_works_after_the_reconnect(page, dashboard):
    from dash_app.servers import WebSocketServer

    for pattern in BLOCKED:  # the server is unreachable: no socket, no fallback, no callbacks
        page.route(pattern, lambda route: route.abort())
    port = dashboard.ws_port
    dashboard.app.ws.stop()
    dashboard.core.bus.close()
    # One interval (0.5 s) plus the grace (5 s): then the page says its data is old.
    wait_js(page, "document.documentElement.classList.contains('mc-stale')", timeout=12, what="stale data")
    banner = page.locator("#mc-stale-banner")
    assert banner.is_visible() and "No live data since" in banner.inner_text()
    unknown = row(page, "alpha").locator(".mc-badge-unknown")
    assert unknown.is_visible() and unknown.inner_text() == "UNKNOWN"
    assert not row(page, "alpha").locator(".mc-badge:not(.mc-badge-unknown)").first.is_visible()
    assert float(row(page, "alpha").evaluate("r => getComputedStyle(r).opacity")) < 0.7  # dimmed
    clock = page.locator("#mc-sweep-clock")
    wait_for(lambda: "no live data for" in clock.inner_text(), what="the clock to say so", page=page)
    first = clock.inner_text()
    assert "next due now" not in first
    wait_for(lambda: clock.inner_text() != first, what="the clock to keep counting", page=page)

    page.click("#mc-check-now")  # fails: the server is out of reach
    wait_for(lambda: page.locator("#mc-check-now").is_disabled(), what="Check now running", page=page)
    page.wait_for_timeout(300)

    for pattern in BLOCKED:
        page.unroute(pattern)
    dashboard.app.ws = WebSocketServer(dashboard.app.ws_app, "127.0.0.1", port)
    dashboard.app.ws.start()
    wait_js(page, "window.mcLive.state === 'live'", timeout=20, what="the reconnect")
    wait_js(page, "!document.documentElement.classList.contains('mc-stale')", what="fresh data")
    assert not banner.is_visible() and not unknown.is_visible()
    wait_for(lambda: page.locator("#mc-check-now").is_enabled(), what="Check now usable again", page=page)
    before = dashboard.core.monitor.loop_status()["sweeps"]
    page.click("#mc-check-now")
    # The first click's request may reach the server once the route is lifted and leave its own
    # toast: only a sweep finished after this click answers this click.
    toast_sweep = "Number((document.querySelector('#mc-toast [data-sweep]') || {dataset: {}}).dataset.sweep || 0)"
    wait_js(page, f"{toast_sweep} > {before}", what="this click's sweep result")
    assert dashboard.core.monitor.loop_status()["sweeps"] > before
