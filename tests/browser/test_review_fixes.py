"""A new user's review of the page: Back from a plain URL, the phone's sort control, bad deep links and
toasts for a blip that was never announced."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    INTERVAL_S,
    TestService,
    open_page,
    row,
    serve_dashboard,
    service_config,
    wait_for,
    wait_js,
)

pytestmark = pytest.mark.timeout(90)

SHOWN_ORDER = "r => r.map(x => x.dataset.service)"


def details_open(page) -> bool:
    return page.locator("#mc-details.show").count() == 1


def sort_select(page) -> list[str]:
    """The phone's sort control as it shows: [value, text of the option shown]."""
    return page.eval_on_selector("#mc-sort-select", "s => [s.value, s.options[s.selectedIndex]?.text || '']")


def test_back_closes_the_details_opened_from_a_plain_url_and_forward_reopens_them(page, dashboard):
    assert page.evaluate("location.search") == ""
    row(page, "alpha").locator("button.mc-row-open").click()
    page.wait_for_selector("#mc-details.show")
    wait_js(page, "location.search === '?service=alpha'", what="the URL with alpha")

    page.go_back()
    wait_for(lambda: not details_open(page), what="Back closes the details", page=page)
    assert page.evaluate("location.search") == ""

    page.go_forward()
    wait_for(lambda: details_open(page), what="Forward opens them again", page=page)
    wait_for(lambda: page.locator("#mc-details-title").inner_text().startswith("alpha"), what="alpha's details")
    assert page.evaluate("location.search") == "?service=alpha"
    # And once more: the page's own close (Escape) still leaves the entry the opening pushed.
    page.keyboard.press("Escape")
    wait_for(lambda: not details_open(page), what="Escape closes", page=page)
    wait_js(page, "location.search === ''", what="the URL without the service")
    assert page.record.console_errors() == []


def test_the_phone_sort_control_shows_a_sort_it_does_not_offer(browser, dashboard):
    context, page, record = open_page(browser, dashboard.url + "?sort=failures.desc", width=375, height=800)
    try:
        wait_for(lambda: sort_select(page)[0] == "failures.desc", what="the select on the linked sort", page=page)
        value, text = sort_select(page)
        assert "Fails" in text and "Worst first" not in text
        # A choice it offers drops the extra option; the headers' sort brings one back.
        page.locator("#mc-sort-select").select_option("name.asc")
        wait_for(lambda: sort_select(page) == ["name.asc", "Name A–Z"], what="name chosen", page=page)
        wait_for(
            lambda: (
                "failures.desc" not in page.eval_on_selector_all("#mc-sort-select option", "os => os.map(o => o.value)")
            ),
            what="the extra option gone",
            page=page,
        )
        assert "Service" in page.locator("th[aria-sort='ascending']").inner_text()
        assert record.console_errors() == []
    finally:
        context.close()


def test_a_header_click_at_desktop_width_reaches_the_phone_sort_control(page, dashboard):
    page.locator("button[title='Sort by Up 1 h']").click()
    wait_for(lambda: sort_select(page)[0] == "uptime_1h.asc", what="the select on Up 1 h", page=page)
    assert "Up 1 h" in sort_select(page)[1]
    page.locator("button[title='Sort by Up 1 h']").click()
    wait_for(lambda: sort_select(page)[0] == "uptime_1h.desc", what="the select on Up 1 h, descending", page=page)
    assert "Up 1 h" in sort_select(page)[1]


@pytest.mark.parametrize("query", ["?status=nonsense", "?sort=bogus.up", "?sort=name.sideways", "?window=1y"])
def test_a_bad_deep_link_means_the_default_view(browser, dashboard, query):
    context, page, record = open_page(browser, dashboard.url + query)
    try:
        wait_js(page, "!location.search", what="the bad parameter dropped from the URL")
        assert page.input_value("#mc-status-filter") == "all"
        wait_for(lambda: page.locator("#mc-table-count").inner_text() == "3 services", what="every row", page=page)
        assert page.eval_on_selector_all("#mc-table-body tr.mc-row", SHOWN_ORDER) == ["alpha", "beta", "gamma-slow"]
        sorted_by = page.locator("th[aria-sort='ascending']")
        wait_for(lambda: sorted_by.count() == 1, what="one sorted column", page=page)
        assert "Status" in sorted_by.inner_text()
        assert page.locator("th[aria-sort='descending']").count() == 0
        # The view still writes the URL as usual afterwards.
        row(page, "beta").locator("button.mc-row-open").click()
        wait_js(page, "location.search === '?service=beta'", what="the URL with beta")
        assert record.console_errors() == []
    finally:
        context.close()


def test_a_good_deep_link_still_applies_with_a_bad_neighbour(browser, dashboard):
    context, page, record = open_page(browser, dashboard.url + "?status=up&sort=bogus.asc&filter=a")
    try:
        wait_js(page, "location.search === '?filter=a&status=up'", what="only the bad parameter dropped")
        assert page.input_value("#mc-status-filter") == "up"
        assert page.input_value("#mc-filter-text") == "a"
        assert "Status" in page.locator("th[aria-sort='ascending']").inner_text()
        assert record.console_errors() == []
    finally:
        context.close()


@pytest.fixture
def patient(tmp_path):
    """One service that needs three failed checks before it counts as down (a blip is pending)."""
    services = {"alpha": TestService("alpha"), "beta": TestService("beta")}
    configs = [
        service_config(services["alpha"], failure_threshold=3),
        service_config(services["beta"], recovery={"action": "none"}),
    ]
    yield from serve_dashboard(tmp_path, services, configs)


def row_status(page, name: str) -> str:
    return page.evaluate(
        f"(document.querySelector(\"#mc-table-body tr[data-service='{name}']\") || {{}}).dataset?.status || ''"
    )


def toasts(page) -> list[str]:
    return page.eval_on_selector_all("#mc-toasts .toast", "ts => ts.map(t => t.innerText.trim())")


def test_a_blip_below_the_failure_threshold_is_not_a_toast(browser, patient):
    context, page, record = open_page(browser, patient.url)
    try:
        wait_for(lambda: row_status(page, "alpha") == "up", what="alpha up", page=page)
        alpha = patient.services["alpha"]
        alpha.stop()
        wait_for(lambda: row_status(page, "alpha") == "pending", what="alpha pending after a failed check", page=page)
        alpha.start()
        wait_for(lambda: row_status(page, "alpha") == "up", what="alpha up again", page=page)
        page.wait_for_timeout(3 * INTERVAL_S * 1000)  # the toast would come with the same frame as the row
        assert not [t for t in toasts(page) if t.startswith("alpha")]
        assert page.evaluate("MC.tell.stats.toasts") == 0

        # A real outage is still told, and so is its end.
        alpha.stop()
        wait_for(lambda: any(t.startswith("alpha is DOWN") for t in toasts(page)), what="a DOWN toast", page=page)
        alpha.start()
        wait_for(lambda: any("alpha recovered: UP" in t for t in toasts(page)), what="a recovered toast", page=page)
        assert record.console_errors() == []
    finally:
        context.close()
