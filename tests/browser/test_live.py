"""Live updates over the WebSocket: statuses change without a reload, the socket comes back by itself."""

from __future__ import annotations

import pytest

from tests.browser.conftest import row, table_sweep, wait_for, wait_for_table_sweep

pytestmark = pytest.mark.timeout(60)


def status_of(page, name: str) -> str:
    return row(page, name).get_attribute("data-status") or ""


def test_stopped_service_turns_down_and_back_up_without_reload(page, dashboard):
    page.evaluate("window.__sameDocument = true")
    dashboard.services["beta"].stop()
    wait_for(lambda: status_of(page, "beta") == "down", what="beta to turn DOWN")
    assert row(page, "beta").locator(".mc-badge").inner_text() == "DOWN"
    assert "text-bg-danger" in row(page, "beta").locator(".mc-badge").get_attribute("class")
    assert page.locator("#mc-overall .mc-overall-badge").get_attribute("data-status") == "down"
    assert status_of(page, "alpha") == "up"

    dashboard.services["beta"].start()
    wait_for(lambda: status_of(page, "beta") == "up", what="beta to come back UP")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.record.console_errors() == []


def test_no_polling_while_live_and_reconnect_after_the_socket_restarts(page, dashboard):
    from dash_app.servers import WebSocketServer

    wait_for_table_sweep(page, table_sweep(page))
    assert not [u for u in page.record.urls if u.endswith("/api/health")], "polled although the socket was up"

    port = dashboard.ws_port
    dashboard.app.ws.stop()
    dashboard.core.bus.close()  # ends the open connection, as a server shutdown does
    wait_for(lambda: page.evaluate("window.mcLive.state") in ("reconnecting", "offline"), what="the socket loss")
    assert page.locator("#mc-connection").get_attribute("data-state") in ("reconnecting", "offline")
    wait_for(lambda: any(u.endswith("/api/health") for u in page.record.urls), what="the HTTP fallback", page=page)
    before = table_sweep(page)
    wait_for_table_sweep(page, before)  # the fallback keeps the table current while the socket is down

    dashboard.app.ws = WebSocketServer(dashboard.app.ws_app, "127.0.0.1", port)
    dashboard.app.ws.start()
    wait_for(lambda: page.evaluate("window.mcLive.state") == "live", timeout=20, what="the reconnect")
    assert page.locator("#mc-connection").inner_text() == "Live"
    polls = page.evaluate("window.mcLive.stats.polls")
    wait_for_table_sweep(page, wait_for_table_sweep(page, table_sweep(page)))
    assert page.evaluate("window.mcLive.stats.polls") == polls  # polling stopped with the socket back


def test_live_updates_keep_sort_filter_and_selection(page, dashboard):
    page.locator("button.mc-sort", has_text="Service").click()
    sorted_by = page.locator("th[aria-sort='ascending']")
    wait_for(lambda: sorted_by.count() == 1 and "Service" in sorted_by.inner_text(), what="aria-sort", page=page)
    assert page.locator("th[aria-sort='none']").count() == 7  # every other sortable column
    page.fill("#mc-filter-text", "ta")  # only "beta" contains "ta"
    wait_for(lambda: page.locator("#mc-table-body tr.mc-row").count() == 1, what="the filter")
    sweep = wait_for_table_sweep(page, table_sweep(page))
    wait_for_table_sweep(page, sweep)
    names = page.eval_on_selector_all("#mc-table-body tr.mc-row", "rows => rows.map(r => r.dataset.service)")
    assert names == ["beta"]
    assert page.input_value("#mc-filter-text") == "ta"

    page.fill("#mc-filter-text", "")
    wait_for(lambda: page.locator("#mc-table-body tr.mc-row").count() == 3, what="the filter cleared")
    sweep = wait_for_table_sweep(page, table_sweep(page))
    names = page.eval_on_selector_all("#mc-table-body tr.mc-row", "rows => rows.map(r => r.dataset.service)")
    assert names == ["alpha", "beta", "gamma-slow"]  # still sorted by name after live updates
    page.locator("button.mc-sort", has_text="Service").click()
    wait_for(
        lambda: (
            page.eval_on_selector_all("#mc-table-body tr.mc-row", "r => r.map(x => x.dataset.service)")
            == ["gamma-slow", "beta", "alpha"]
        ),
        what="descending order",
    )
    wait_for_table_sweep(page, sweep)
    names = page.eval_on_selector_all("#mc-table-body tr.mc-row", "rows => rows.map(r => r.dataset.service)")
    assert names == ["gamma-slow", "beta", "alpha"]
