"""Read-only is read-only: logged out every action control is disabled, and a refused action says
so with a link to log in (issue 10, item 9); a manual recovery's message follows it to its outcome and
the details show the engine's live auto state (item 8)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import LIVE_JS, open_page, row, wait_for, wait_js
from tests.browser.test_auth_page import PASSWORD, guarded  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(60)

ACTIONS = ("#mc-check-now", "#mc-details-check", "#mc-details-recover", "#mc-maint-toggle", "#mc-log-clear")


def end_session(app, context) -> None:
    """Revoke the browser's session on the server, as a logout elsewhere does."""
    from flask.sessions import SecureCookieSessionInterface

    from dash_app.sessions import SESSION_COOKIE

    cookie = next(c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE)
    data = SecureCookieSessionInterface().get_signing_serializer(app.server).loads(cookie)
    app.revoked.revoke(data["sid"], float(data["at"]))


def open_details(page, name: str) -> None:
    row(page, name).locator("td").nth(2).click()
    page.wait_for_selector("#mc-details.show")
    wait_for(lambda: page.locator("#mc-details-title").inner_text().startswith(name), what="the panel", page=page)
    wait_for(lambda: page.locator("#mc-details-probe dt").count() > 0, what="the probe facts", page=page)


def test_logged_out_every_action_control_is_disabled(browser, guarded):  # noqa: F811
    context, page, record = open_page(browser, f"http://127.0.0.1:{guarded.http.port}/")
    try:
        open_details(page, "alpha")
        page.wait_for_timeout(600)  # a live update re-renders the panel: the rule must hold after it too
        for selector in ACTIONS:
            assert page.locator(selector).is_disabled(), f"{selector} is enabled while logged out"
        assert record.console_errors() == []
    finally:
        context.close()


def test_a_refused_action_says_why_links_to_login_and_closes_its_dialog(browser, guarded):  # noqa: F811
    context, page, record = open_page(browser, f"http://127.0.0.1:{guarded.http.port}/")
    try:
        page.click("a[href='/login']")
        page.fill("#username", "ops")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        wait_js(page, LIVE_JS, what="the page after login")
        open_details(page, "alpha")
        wait_for(lambda: page.locator("#mc-details-recover").is_enabled(), what="Recover now", page=page)
        page.click("#mc-details-recover")
        page.wait_for_selector(".modal.show #mc-recover-modal")
        end_session(guarded, context)  # logged out in another tab: this page still shows its controls
        page.click("#mc-recover-confirm")
        alert = page.locator("#mc-auth-alert")
        alert.wait_for(state="visible")
        assert "log" in alert.inner_text().lower()
        assert alert.locator("a[href='/login']").is_visible()
        wait_for(lambda: page.locator(".modal.show #mc-recover-modal").count() == 0, what="the dialog to close")
        assert not [e for e in record.console_errors() if "body stream" in e or "Callback" in e]
        assert record.errors == []  # no uncaught error
    finally:
        context.close()


def test_manual_recovery_message_follows_the_attempt_and_auto_state_is_live(page, dashboard):
    engine = dashboard.core.recovery
    open_details(page, "alpha")
    probe = page.locator("#mc-details-probe")
    assert "http (manual)" in probe.inner_text()  # the config says auto: false
    engine.set_auto(True, name="alpha")
    wait_for(lambda: "http (automatic)" in probe.inner_text(), what="auto switched on", page=page)
    engine.set_auto(False)  # the global switch wins
    wait_for(lambda: "http (manual)" in probe.inner_text(), what="auto switched off", page=page)

    page.click("#mc-details-recover")
    page.wait_for_selector(".modal.show #mc-recover-modal")
    page.click("#mc-recover-confirm")
    result = page.locator("#mc-details-result .mc-action-result[data-action='recover']")
    result.wait_for()
    wait_for(lambda: result.get_attribute("data-outcome") == "recovered", what="the outcome", page=page)
    assert "RECOVERED" in result.inner_text()
