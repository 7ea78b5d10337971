"""A 375 px phone: one card per service with its heartbeat strip in sight, the details as a full-screen
sheet (issue 10, item 10)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, row, wait_for

pytestmark = pytest.mark.timeout(60)


def test_phone_shows_one_card_per_service_and_a_full_screen_sheet(browser, dashboard):
    context, page, record = open_page(browser, dashboard.url, width=375, height=800)
    try:
        cards = page.locator("#mc-table-body tr.mc-row")
        assert cards.count() == 3
        boxes = page.eval_on_selector_all(
            "#mc-table-body tr.mc-row",
            "rows => rows.map(r => { const b = r.getBoundingClientRect(); "
            "return [b.left, b.right, b.top, b.height]; })",
        )
        for left, right, _, height in boxes:
            assert left >= 0 and right <= 375, "a card leaves the screen"
            assert height == pytest.approx(44, abs=1)  # the table draws the cards in view by this height
        assert cards.first.locator("td").nth(2).is_visible()  # latency
        assert cards.first.locator("td").nth(4).is_visible()  # 24 h uptime
        # Measured in one go (a live update may move the page between two reads).
        top, spark_top, spark_right, beats = page.evaluate(
            """() => { const r = document.querySelector('#mc-table-body tr.mc-row');
            const g = r.querySelector('svg.mc-spark').getBoundingClientRect();
            return [r.getBoundingClientRect().top, g.top, g.right, r.querySelectorAll('.mc-beat').length]; }"""
        )
        assert spark_right <= 375  # latency line and heartbeat strip on screen, in the card
        assert abs(spark_top - top) <= 1 and beats >= 1
        # The header row is hidden on a phone: a sort control stands in for it.
        choose = page.locator("#mc-sort-select")
        assert choose.is_visible()
        choose.select_option("name.asc")
        wait_for(
            lambda: (
                page.eval_on_selector_all("#mc-table-body tr.mc-row", "r => r.map(x => x.dataset.service)")
                == ["alpha", "beta", "gamma-slow"]
            ),
            what="the cards sorted by name",
        )
        assert boxes[0][2] < 560  # the first card is not pushed below the fold by the header
        row(page, "alpha").locator("td").nth(0).click()
        page.wait_for_selector("#mc-details.show")
        wait_for(lambda: page.locator("#mc-details").bounding_box()["width"] >= 374, what="a full-screen sheet")
        assert record.console_errors() == []
    finally:
        context.close()
