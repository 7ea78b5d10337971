"""Telling the operator (issue 10, item 7): a toast per change of status and per recovery outcome, the
favicon in the worst status, opt-in desktop notifications; and deep links (item 11)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DEADLINE_S, row, wait_for, wait_js, wait_live

pytestmark = pytest.mark.timeout(60)

# The Notification API, recorded (headless Chromium shows nothing): permission asked on the opt-in.
FAKE_NOTIFICATION = """
window.__notes = [];
window.Notification = function (title, options) { window.__notes.push([title, (options || {}).body || '']); };
window.Notification.permission = 'default';
window.Notification.requestPermission = function () {
  window.Notification.permission = 'granted'; return Promise.resolve('granted'); };
"""


def new_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(FAKE_NOTIFICATION)
    page = context.new_page()
    page.set_default_timeout(DEADLINE_S * 1000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    wait_live(page)
    return context, page, errors


def toasts(page) -> list[str]:
    return page.eval_on_selector_all("#mc-toasts .toast", "ts => ts.map(t => t.innerText.trim())")


def favicon(page) -> str:
    return page.evaluate("document.querySelector(\"link[rel~='icon']\").dataset.status || ''")


def test_status_changes_and_recovery_outcomes_are_told(browser, dashboard):
    context, page, errors = new_page(browser, dashboard.url)
    try:
        assert favicon(page) == "up"
        toggle = page.locator("#mc-notify-toggle")
        assert toggle.get_attribute("aria-pressed") == "false"
        toggle.click()
        wait_for(lambda: toggle.get_attribute("aria-pressed") == "true", what="notifications on", page=page)

        dashboard.services["beta"].stop()
        wait_for(lambda: any(t.startswith("beta is DOWN") for t in toasts(page)), what="a DOWN toast", page=page)
        wait_for(lambda: favicon(page) == "down", what="the favicon in the worst status", page=page)
        assert any(title == "beta is DOWN" for title, _ in page.evaluate("window.__notes"))
        dashboard.services["beta"].start()
        wait_for(lambda: any("beta recovered: UP" in t for t in toasts(page)), what="a recovered toast", page=page)
        wait_for(lambda: favicon(page) == "up", what="the favicon back to up", page=page)

        dashboard.core.recovery.request_manual("alpha")
        wait_for(
            lambda: any(t.startswith("Recovery of alpha: RECOVERED") for t in toasts(page)),
            what="the recovery's outcome",
            page=page,
        )
        assert errors == []
    finally:
        context.close()


def test_a_deep_link_opens_the_same_view_and_back_closes_the_details(browser, dashboard):
    url = dashboard.url + "?service=alpha&filter=a&sort=name.desc&window=24h"
    context, page, errors = new_page(browser, url)
    try:
        page.wait_for_selector("#mc-details.show")
        wait_for(lambda: page.locator("#mc-details-title").inner_text().startswith("alpha"), what="alpha's details")
        assert page.input_value("#mc-filter-text") == "a"
        wait_for(
            lambda: (
                page.eval_on_selector_all("#mc-table-body tr.mc-row", "r => r.map(x => x.dataset.service)")
                == ["gamma-slow", "beta", "alpha"]
            ),
            what="the filtered rows sorted by name, descending",
            page=page,
        )
        assert "Service" in page.locator("th[aria-sort='descending']").inner_text()
        wait_js(
            page,
            "document.querySelector('#mc-details-chart .js-plotly-plot')?.layout?.meta?.window === '24h'",
            what="the 24 h chart",
        )
        page.keyboard.press("Escape")
        wait_for(lambda: page.locator("#mc-details.show").count() == 0, what="closed", page=page)
        wait_js(page, "!location.search.includes('service=')", what="the URL without the service")

        row(page, "beta").locator("td").nth(2).click()
        page.wait_for_selector("#mc-details.show")
        wait_js(page, "location.search.includes('service=beta')", what="the URL with beta")
        assert "filter=a" in page.url and "sort=name.desc" in page.url
        page.go_back()
        wait_for(lambda: page.locator("#mc-details.show").count() == 0, what="Back closes the details", page=page)
        assert "service=" not in page.url and "filter=a" in page.url
        assert errors == []
    finally:
        context.close()
