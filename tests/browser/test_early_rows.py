"""The rows are drawn as soon as Dash has rendered the table's empty body, from a socket opened while
its scripts loaded, and Dash's own start (startLive) takes them over as they are (issue 12)."""

from __future__ import annotations

import re
import time

from callbacks.table import DEFAULT_SORT
from tests.browser.conftest import DEADLINE_S, LIVE_JS, wait_for_table_sweep, wait_js

# Every row element the page ever holds, from its very start (before any script of the page ran).
WATCH_ROWS = """
window.__seenRows = [];
new MutationObserver(() => {
  for (const r of document.querySelectorAll('#mc-table-body tr.mc-row'))
    if (!window.__seenRows.includes(r)) window.__seenRows.push(r);
}).observe(document, {subtree: true, childList: true});
"""

ROWS_STATE = """() => ({
  bodies: document.querySelectorAll('#mc-table-body').length,
  names: [...document.querySelectorAll('#mc-table-body tr.mc-row')].map(r => r.dataset.service),
  seen: window.__seenRows.map(r => r.dataset.service),
  stillThere: window.__seenRows.every(r => r.isConnected && r.closest('#mc-table-body')),
  early: window.mcLive.stats.earlyRows,
  started: window.mcLive.stats.started,
})"""


def open_watched(browser, url: str, renderer_delay_s: float = 0.0):
    """`renderer_delay_s`: Dash's renderer script is held back this long, so a loaded machine cannot
    start Dash before the socket's first snapshot arrived (the order this test is about)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    if renderer_delay_s:
        page.route(re.compile(r"dash_renderer"), lambda route: (time.sleep(renderer_delay_s), route.continue_()))
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(WATCH_ROWS)
    page.set_default_timeout(DEADLINE_S * 1000)
    page.goto(url)
    wait_js(page, LIVE_JS, what="the live connection and the rows")
    return context, page, errors


def test_rows_are_drawn_before_dash_starts_and_handed_over_without_a_duplicate(browser, dashboard):
    context, page, errors = open_watched(browser, dashboard.url, renderer_delay_s=1.0)
    try:
        state = page.evaluate(ROWS_STATE)
        assert state["early"] is not None and state["early"] < state["started"], state  # before startLive
        assert state["bodies"] == 1
        assert sorted(state["names"]) == ["alpha", "beta", "gamma-slow"]  # one row each, no copy
        assert sorted(state["seen"]) == sorted(state["names"]) and state["stillThere"]  # the same elements
        assert page.locator("#mc-table-count").inner_text() == "3 services"
        # Live results after the handover patch those same rows.
        wait_for_table_sweep(page, page.evaluate("window.mcLive.snapshot.sweep"))
        state = page.evaluate(ROWS_STATE)
        assert sorted(state["names"]) == ["alpha", "beta", "gamma-slow"] and state["stillThere"], state
        assert page.locator("#mc-table-body tr.mc-row svg.mc-spark .mc-beat").count() >= 3  # sparklines drawn
        assert errors == []  # the page's CSP admits all of it: the early data is JSON, not a script
    finally:
        context.close()


def test_a_deep_link_filter_leaves_the_rows_to_dash(browser, dashboard):
    context, page, errors = open_watched(browser, dashboard.url + "?filter=alpha")
    try:
        wait_js(page, "document.querySelectorAll('#mc-table-body tr.mc-row').length === 1", what="the filter")
        state = page.evaluate(ROWS_STATE)
        assert state["early"] is None, state  # Dash applies the link's filter: no early rows to undo
        assert state["names"] == ["alpha"] and state["bodies"] == 1
        assert errors == []
    finally:
        context.close()


def test_the_table_draws_only_the_rows_in_view_beyond_the_servers_virtual_min(browser, dashboard, monkeypatch):
    """The table's VIRTUAL_MIN and default sort are the server's (callbacks/view.py table_view), not a copy."""
    monkeypatch.setattr("callbacks.view.VIRTUAL_MIN", 2)  # read per page load: 3 services are now "many"
    context, page, errors = open_watched(browser, dashboard.url)
    try:
        assert page.evaluate("[MC.table.VIRTUAL_MIN, MC.table.defaultSort]") == [2, DEFAULT_SORT]
        rows = "#mc-table-body tr.mc-row[aria-rowindex]"  # numbered only when the table draws a window
        wait_js(page, f"document.querySelectorAll('{rows}').length === 3", what="the windowed rows")
        assert page.evaluate("window.mcEarly.sparks.query").count("service=") == 3  # the head script's guess
        assert not page.evaluate("window.mcLive.sparksAll")  # not every row's history at once
        assert errors == []
    finally:
        context.close()
