"""With auth on: the page is read-only until you log in, then its actions work (CSRF included)."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from tests.browser.conftest import INTERVAL_S, LIVE_JS, TestService, open_page, service_config, wait_for, wait_js

pytestmark = pytest.mark.timeout(60)
PASSWORD = "a long enough password"


@pytest.fixture
def guarded(tmp_path):
    from config import settings_from_dict
    from dash_app.factory import create_app

    service = TestService("alpha")
    users = [{"username": "ops", "password_hash": generate_password_hash(PASSWORD)}]
    settings = settings_from_dict(
        {"services": [service_config(service)], "interval_s": INTERVAL_S, "auth": {"users": users}}, "browser test"
    )
    app = create_app(settings, data_dir=tmp_path, start_monitor=True)
    app.serve("127.0.0.1", 0, 0)
    try:
        yield app
    finally:
        app.stop()
        service.stop()


def test_read_only_until_login_then_check_now_reaches_the_server(browser, guarded):
    base = f"http://127.0.0.1:{guarded.http.port}/"
    context, page, record = open_page(browser, base)
    try:
        assert page.locator("#mc-check-now").is_disabled()
        assert page.locator("a[href='/login']").is_visible()
        page.click("a[href='/login']")
        page.fill("#username", "ops")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        wait_js(page, LIVE_JS, what="live again after login")
        assert page.locator("#mc-check-now").is_enabled()
        before = guarded.core.monitor.loop_status()["sweeps"]
        page.click("#mc-check-now")
        wait_for(
            lambda: guarded.core.monitor.loop_status()["sweeps"] > before, what="a sweep from Check now", page=page
        )
        wait_js(
            page,
            "!!document.querySelector('#mc-toast [data-sweep]')",
            what="the toast with the result",
        )
        assert record.console_errors() == []
        page.click("text=Log out")
        wait_js(page, "location.pathname === '/login'", what="back at the login form")
    finally:
        context.close()
