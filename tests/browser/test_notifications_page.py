"""The notifications panel: the delivery log shows what was sent, the test button sends and says how it went."""

from __future__ import annotations

import pytest

from tests.browser.conftest import INTERVAL_S, TestService, open_page, service_config, wait_for
from tests.notify_receivers import WebhookReceiver
from tests.support import free_port

pytestmark = pytest.mark.timeout(60)

HOOK_SECRET = "page-hook-t0ken-77ad"
DEAD_SECRET = "page-dead-t0ken-19fe"


@pytest.fixture
def notifying(tmp_path, monkeypatch):
    """One service, alpha, and two targets: `hook` (a webhook of the test) and `dead` (nothing listens)."""
    from config import settings_from_dict
    from dash_app.factory import create_app

    hook = WebhookReceiver()
    alpha = TestService("alpha")
    monkeypatch.setenv("MC_PAGE_HOOK", hook.url(HOOK_SECRET))
    monkeypatch.setenv("MC_PAGE_DEAD", f"json://127.0.0.1:{free_port()}/hook/{DEAD_SECRET}")
    settings = settings_from_dict(
        {
            "services": [service_config(alpha)],
            "interval_s": INTERVAL_S,
            "thresholds": {"cpu_max": 100, "mem_max": 100},
            "notifications": {
                "targets": {"hook": {"url_env": "MC_PAGE_HOOK"}, "dead": {"url_env": "MC_PAGE_DEAD"}},
                "routes": [{"targets": ["hook"]}],
                "delivery": {"timeout_s": 2},
            },
        },
        "browser test",
    )
    app = create_app(settings, data_dir=tmp_path, start_monitor=True)
    app.serve("127.0.0.1", 0, 0)
    try:
        yield app, hook, alpha
    finally:
        app.stop()
        alpha.stop()
        hook.close()


def test_the_panel_shows_deliveries_and_the_test_button_reports_the_outcome(browser, notifying):
    app, hook, alpha = notifying
    context, page, record = open_page(browser, f"http://127.0.0.1:{app.http.port}/")
    try:
        alpha.stop()  # down: one message to the hook, and a row in the panel's delivery log
        wait_for(lambda: hook.messages, what="the down message at the webhook", page=page)
        sent = page.locator("#mc-notify-body tr[data-target='hook'] [data-outcome='sent']")
        wait_for(lambda: sent.count() >= 1, what="the sent row in the delivery log", page=page)
        assert "alpha is down" in page.locator("#mc-notify-body").inner_text()

        page.locator("#mc-notify-test").click()  # the first target, hook, is chosen
        result = page.locator("#mc-notify-result")
        wait_for(lambda: "Test message sent to hook." in result.inner_text(), what="the test's result", page=page)
        assert "[TEST] Mission Control notification test" in hook.titles()

        page.locator("#mc-notify-target").select_option(label="dead (json)")
        page.locator("#mc-notify-test").click()
        wait_for(lambda: "not delivered" in result.inner_text(), what="the failed test's result", page=page)
        gave_up = page.locator("#mc-notify-body tr[data-target='dead'] [data-outcome='gave_up']")
        wait_for(lambda: gave_up.count() == 1, what="the failed test in the log", page=page)

        html = page.content()
        assert HOOK_SECRET not in html and DEAD_SECRET not in html
        assert record.console_errors() == []
    finally:
        context.close()
