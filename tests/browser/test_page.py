"""The page itself: clean load, local assets only, one row per service, layout from phone to desktop."""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.browser.conftest import open_page, row, table_sweep, wait_for, wait_for_table_sweep

pytestmark = pytest.mark.timeout(60)

LATENCY_RE = re.compile(r"^(\d+(?:\.\d)?) (ms|s)$")


def test_page_loads_with_no_console_error_and_no_request_to_another_host(page, dashboard):
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))  # two live updates applied
    assert page.record.console_errors() == []
    assert page.record.hosts() == {f"127.0.0.1:{dashboard.app.http.port}", f"127.0.0.1:{dashboard.ws_port}"}
    assert page.title().endswith("Mission Control")
    icons = page.eval_on_selector_all("link[rel=icon]", "links => links.map(l => l.href)")
    assert icons
    # The page draws its favicon in the worst status (a data: SVG made in the page, nothing fetched);
    # the files it starts from are still served.
    assert all(href.startswith("data:image/svg+xml,") for href in icons)
    for name in ("favicon.svg", "favicon.ico"):
        with urllib.request.urlopen(f"{dashboard.url}assets/{name}", timeout=5) as response:
            assert response.status == 200


def test_table_has_one_row_per_service_with_real_latencies(page, dashboard):
    names = page.eval_on_selector_all("#mc-table-body tr.mc-row", "rows => rows.map(r => r.dataset.service)")
    assert sorted(names) == sorted(s.name for s in dashboard.core.settings.services)
    latencies = {}
    for name in names:
        text = row(page, name).locator("td").nth(2).inner_text()
        match = LATENCY_RE.match(text)
        assert match, f"{name}: latency cell says {text!r}"
        latencies[name] = float(match.group(1)) * (1000 if match.group(2) == "s" else 1)
    assert all(v > 0 for v in latencies.values())
    assert latencies["gamma-slow"] >= 100  # its handler sleeps 120 ms: the number is measured, not made up
    assert latencies["alpha"] < latencies["gamma-slow"]
    assert row(page, "alpha").locator(".mc-badge").inner_text() == "UP"


def test_status_badges_carry_text_as_well_as_colour(page, dashboard):
    badge = row(page, "beta").locator(".mc-badge")
    assert badge.inner_text() == "UP"
    assert "text-bg-success" in badge.get_attribute("class")


def test_phone_width_keeps_the_page_inside_the_screen(browser, dashboard):
    context, page, record = open_page(browser, dashboard.url, width=375, height=800)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a 375px phone"
        assert page.locator("#mc-check-now").is_visible()
        assert page.locator("#mc-table-body tr.mc-row").count() == 3
        assert record.console_errors() == []
    finally:
        context.close()


def test_wide_screen_shows_every_column(browser, dashboard):
    context, page, _ = open_page(browser, dashboard.url, width=1920, height=1080)
    try:
        cells = page.locator("#mc-table-body tr.mc-row").first.locator("td")
        hidden = [i for i in range(cells.count()) if not cells.nth(i).is_visible()]
        assert hidden == []
    finally:
        context.close()


def test_keyboard_reaches_and_opens_a_row(page):
    page.locator("#mc-check-now").focus()
    for _ in range(40):  # tab forward until a row's name button has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('mc-row-open')"):
            break
    name = page.evaluate("document.activeElement.closest('tr').dataset.service")
    page.keyboard.press("Enter")
    page.wait_for_selector("#mc-details.show")
    wait_for(lambda: page.locator("#mc-details-title").inner_text().startswith(name), what="the drawer's title")
    page.keyboard.press("Escape")
    wait_for(lambda: page.locator("#mc-details.show").count() == 0, what="the drawer to close")


def test_keyboard_focus_stays_on_its_row_through_live_updates(page):
    row(page, "beta").locator("button.mc-row-open").focus()
    wait_for_table_sweep(page, wait_for_table_sweep(page, table_sweep(page)))
    focused = page.evaluate("(document.activeElement.closest('tr') || {}).dataset?.service")
    assert focused == "beta"


def test_plotly_is_not_a_page_script_but_arrives_once_the_rows_are_painted(page):
    # Only the details chart needs plotly.js: the first rows never wait for its ~0.5 s of parsing ...
    scripts = page.eval_on_selector_all("script[src]", "s => s.map(x => x.getAttribute('src'))")
    assert not [s for s in scripts[:40] if "plotly-basic" in s]
    # ... and it is fetched ahead from dcc.Graph's own URL, so the details open without waiting.
    wait_for(lambda: page.evaluate("!!window.Plotly"), what="plotly.js fetched after the rows", page=page)
    assert any(u.endswith("/_dash-component-suites/plotly/package_data/plotly.min.js") for u in page.record.urls)
    assert page.evaluate("window.mcLive.stats.resultPaint.length") >= 1  # results were painted and timed
