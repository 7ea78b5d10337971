"""The sparkline column: each row draws its own latency line and heartbeat strip, fed live."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import row, wait_for, wait_for_table_sweep

pytestmark = pytest.mark.timeout(60)


def spark(page, name: str):
    return row(page, name).locator("td.mc-spark-cell svg.mc-spark")


def test_hovering_a_sparkline_point_shows_its_latency(page, dashboard):
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    line = spark(page, "gamma-slow").locator("path.mc-spark-line")
    box = spark(page, "gamma-slow").bounding_box()
    # The newest point is at the right end of the line, in the line's band (the top of the row).
    page.mouse.move(box["x"] + box["width"] - 30, box["y"] + 12)
    page.mouse.move(box["x"] + box["width"] - 4, box["y"] + 12, steps=4)
    tip = page.locator("#mc-spark-tip")
    wait_for(lambda: tip.is_visible() and "ms" in tip.inner_text(), what="the point's tooltip", page=page)
    text = tip.inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d · \d+(\.\d)? ms · UP", text.strip()), text
    latency = float(re.search(r"(\d+(?:\.\d)?) ms", text).group(1))
    assert latency >= 100  # gamma-slow's handler sleeps 120 ms
    tip_box = tip.bounding_box()
    assert tip_box and tip_box["width"] > 0 and tip_box["y"] >= 0 and tip_box["x"] + tip_box["width"] <= 1400
    assert line.count() == 1


def test_a_result_moves_the_sparkline_in_the_same_frame_as_the_badge(page, dashboard):
    """The line, the strip and the badge change together: each result is appended in the browser."""
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    page.evaluate(
        """() => {
          window.__frames = [];
          const body = document.querySelector('#mc-table-body');
          new MutationObserver(() => {
            const r = body.querySelector("tr[data-service='beta']");
            if (!r) return;
            const beats = r.querySelectorAll('.mc-beat');
            window.__frames.push([r.dataset.status, beats.length ? beats[beats.length - 1].dataset.status : null]);
          }).observe(body, {subtree: true, childList: true, attributes: true});
        }"""
    )
    dashboard.services["beta"].stop()
    wait_for(lambda: row(page, "beta").get_attribute("data-status") == "down", what="beta down", page=page)
    frames = page.evaluate("window.__frames")
    first_down = next(i for i, (badge, _) in enumerate(frames) if badge == "down")
    # By the time the row said DOWN, its newest heartbeat block was already the failed check's.
    assert frames[first_down][1] == "down", frames


def test_sparklines_follow_their_rows_through_a_sort(page):
    before = {name: spark(page, name).get_attribute("aria-label") for name in ("alpha", "beta", "gamma-slow")}
    assert all(label and label.startswith("Last ") for label in before.values()), before
    page.locator("button.mc-sort", has_text="Service").click()
    wait_for(
        lambda: (
            page.eval_on_selector_all("#mc-table-body tr.mc-row", "r => r.map(x => x.dataset.service)")
            == ["alpha", "beta", "gamma-slow"]
        ),
        what="the sort",
    )
    page.locator("button.mc-sort", has_text="Service").click()
    wait_for(
        lambda: (
            page.eval_on_selector_all("#mc-table-body tr.mc-row", "r => r.map(x => x.dataset.service)")
            == ["gamma-slow", "beta", "alpha"]
        ),
        what="the reversed sort",
    )
    # Each sparkline is inside its own row: it cannot drift to another service's row.
    for name in ("alpha", "beta", "gamma-slow"):
        assert spark(page, name).count() == 1
