"""1,000 services on one page: only the rows in view exist, yet filter, sort, scroll and live results
cover all of them (issue 12). Speed is measured by bench/page_speed.py, not here."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.browser.conftest import TestService, open_page, row, wait_for

pytestmark = pytest.mark.timeout(180)

COUNT = 1000
LAST = f"svc-{COUNT - 1:04d}"


@pytest.fixture
def fleet(tmp_path):
    """999 services on four real loopback servers, and the last one (by name) alone on its own."""
    from config import settings_from_dict
    from dash_app.factory import create_app

    shared = [TestService(f"shared-{i}") for i in range(4)]
    lone = TestService(LAST)
    services = [
        {"name": f"svc-{i:04d}", "port": shared[i % 4].port, "health_endpoint": "/", "timeout_s": 5}
        for i in range(COUNT - 1)
    ]
    services.append({"name": LAST, "port": lone.port, "health_endpoint": "/", "timeout_s": 5, "failure_threshold": 1})
    settings = settings_from_dict({"services": services, "interval_s": 3, "max_concurrency": 128}, "1,000 services")
    app = create_app(settings, data_dir=tmp_path, start_monitor=True)
    app.serve("127.0.0.1", 0, 0)
    try:
        wait_for(lambda: app.core.monitor.snapshot().get("sweep", 0) >= 1, timeout=60, what="the first sweep")
        yield app, lone
    finally:
        app.stop()
        for server in [*shared, lone]:
            server.stop()


def names(page) -> list[str]:
    return page.eval_on_selector_all("#mc-table-body tr.mc-row", "r => r.map(x => x.dataset.service)")


def test_a_thousand_services_draw_only_the_rows_in_view_and_reach_every_one(browser, fleet):
    app, lone = fleet
    context, page, record = open_page(browser, f"http://127.0.0.1:{app.http.port}/", height=900)
    try:
        wait_for(lambda: page.locator("#mc-table-count").inner_text() == f"{COUNT} services", what="the count")
        drawn = page.locator("#mc-table-body tr.mc-row").count()
        assert 10 <= drawn <= 150, drawn  # the screen's rows and a margin, not 1,000
        assert page.locator("#mc-table").get_attribute("aria-rowcount") == str(COUNT + 1)

        page.locator("button.mc-sort", has_text="Service").click()  # by name: LAST is the very last row
        wait_for(lambda: names(page)[:1] == ["svc-0000"], what="the sort by name", page=page)
        assert row(page, LAST).count() == 0  # far below the screen: not drawn

        # A result for a row out of view: it is there when the row scrolls into view.
        lone.stop()
        health = lambda: page.request.get(f"http://127.0.0.1:{app.http.port}/api/health").json()  # noqa: E731
        wait_for(
            lambda: next(s for s in health()["services"] if s["name"] == LAST)["status"] == "down",
            timeout=30,
            what=f"{LAST} down on the server",
            page=page,
        )
        page.wait_for_timeout(300)  # the result's WebSocket message lands
        assert row(page, LAST).count() == 0
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        wait_for(lambda: names(page)[-1:] == [LAST], what="the last row after scrolling", page=page)
        assert row(page, LAST).get_attribute("data-status") == "down"
        assert row(page, LAST).locator(".mc-badge").first.inner_text() == "DOWN"
        assert row(page, LAST).is_visible()
        assert page.locator("#mc-table-body tr.mc-row").count() <= 150

        # Sort and filter cover all 1,000: the reversed name sort starts with LAST ...
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("button.mc-sort", has_text="Service").click()
        wait_for(lambda: names(page)[:1] == [LAST], what="the reversed sort", page=page)
        # ... the status filter finds the one down service among them ...
        page.locator("#mc-status-filter").select_option("down")
        wait_for(lambda: names(page) == [LAST], what="the down filter", page=page)
        assert page.locator("#mc-table-count").inner_text() == f"1 of {COUNT} services"
        # ... and the text filter any other one.
        page.locator("#mc-status-filter").select_option("all")
        page.locator("#mc-filter-text").fill("svc-0500")
        wait_for(lambda: names(page) == ["svc-0500"], what="the text filter", page=page)
        assert record.console_errors() == []
    finally:
        context.close()


def test_the_first_rows_sparklines_are_asked_by_the_head_script_before_the_rows_arrive(browser, fleet):
    """Issue 12: the page's head script asks for the sparklines of the rows the server expects in view
    (callbacks/view.py first_view_query), so drawing those rows asks for nothing more."""
    app, _lone = fleet
    url = f"http://127.0.0.1:{app.http.port}/"
    context, page, record = open_page(browser, url, height=900)
    try:
        in_view = """[...document.querySelectorAll('#mc-table-body tr.mc-row')]
            .filter(r => r.getBoundingClientRect().top < innerHeight)"""
        wait_for(
            lambda: page.evaluate(f"{in_view}.every(r => r.querySelector('svg.mc-spark .mc-beat'))"),
            what="the sparklines of the rows in view",
            page=page,
        )
        asked = page.evaluate("window.mcEarly.sparks.query")
        early = [unquote(p[len("service=") :]) for p in asked.split("&") if p.startswith("service=")]
        assert early == page.evaluate(f"window.MC.table.first({len(early)})")  # the table's own order
        assert page.evaluate(f"{in_view}.every(r => {early!r}.includes(r.dataset.service))")
        assert page.evaluate("window.MC.sparks.stats.early") == len(early)
        assert page.evaluate("window.MC.sparks.stats.requests") == 0  # no row in view asked again
        assert [u for u in record.urls if "/api/sparks" in u] == [f"{url}api/sparks?{asked}"]
        assert record.console_errors() == []
    finally:
        context.close()
