"""What the page shows is true: one fleet rule, local times, failed checks without latency, gaps,
the heartbeat strip and the chart's window (issue 10, items 1, 2, 4, 5, 6)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import DEADLINE_S, row, wait_for, wait_for_table_sweep, wait_live

pytestmark = pytest.mark.timeout(60)

CHART = "document.querySelector('#mc-details-chart .js-plotly-plot')"


def overall(page) -> str:
    return page.locator("#mc-overall .mc-overall-badge").get_attribute("data-status") or ""


def api_health(page, dashboard) -> dict:
    return page.request.get(dashboard.url + "api/health").json()


def test_page_and_api_agree_on_the_fleet_when_everything_is_in_maintenance(page, dashboard):
    for name in ("alpha", "beta", "gamma-slow"):
        dashboard.core.recovery.set_maintenance(name, True)
    dashboard.services["beta"].stop()  # a down service in maintenance is not news
    wait_for(lambda: overall(page) == "maintenance", what="the header to say maintenance", page=page)
    wait_for(lambda: row(page, "beta").get_attribute("data-status") == "down", what="beta's check", page=page)
    health = api_health(page, dashboard)
    assert health["overall"] == "maintenance"
    assert health["counts"] == {"up": 0, "degraded": 0, "down": 0, "pending": 0, "maintenance": 3}
    # The page shows the server's counts, carried by every message (results too), never its own sums.
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    assert page.evaluate("window.mcLive.snapshot.counts") == health["counts"]
    assert overall(page) == "maintenance" and "3 maintenance" in page.locator("#mc-overall").inner_text()
    assert page.title() == "Mission Control"  # nothing down that anyone has to know about

    dashboard.core.recovery.set_maintenance("beta", False)
    wait_for(lambda: overall(page) == "down", what="beta down once out of maintenance", page=page)
    wait_for(lambda: page.title().startswith("(1 down)"), what="the tab title", page=page)
    counts = page.evaluate("window.mcLive.snapshot.counts")
    assert (counts["down"], counts["maintenance"]) == (1, 2)
    assert api_health(page, dashboard)["counts"]["down"] == 1
    # The status sort puts beta (down) first and the services in maintenance after it.
    names = page.eval_on_selector_all("#mc-table-body tr.mc-row", "rows => rows.map(r => r.dataset.service)")
    assert names[0] == "beta"


def test_times_are_the_viewers_local_time_with_the_offset_on_hover(browser, dashboard):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        page.set_default_timeout(DEADLINE_S * 1000)
        page.goto(dashboard.url)
        wait_live(page)
        wait_for_table_sweep(page, 0)
        cookie = next(c for c in context.cookies() if c["name"] == "mc_tz")
        assert cookie["value"] == "Asia%2FTokyo"  # what the browser sends: the server decodes it
        cell = row(page, "alpha").locator("td").nth(7)  # "Checked"
        # Both read in one go: a live update (every 0.5 s here) may re-render the row between two reads.
        title, text = cell.evaluate("c => [c.title, c.innerText]")
        assert title.endswith("+09:00"), title
        moment = datetime.fromisoformat(title)
        assert text.strip() == moment.strftime("%H:%M:%S")
        assert moment.utcoffset() == ZoneInfo("Asia/Tokyo").utcoffset(moment.replace(tzinfo=None))
        # The header clock (the browser's own) and the table agree on the hour.
        clock = re.search(r"(\d\d):\d\d:\d\d", page.locator("#mc-sweep-clock").inner_text()).group(1)
        assert abs(int(clock) - moment.hour) in (0, 1, 23)
        sweep_clock = page.locator("#mc-sweep-clock")
        wait_for(lambda: (sweep_clock.get_attribute("title") or "").endswith("+09:00"), what="the clock's hover")
    finally:
        context.close()


def spark(page, name: str):
    return row(page, name).locator("td.mc-spark-cell svg.mc-spark")


def test_a_failed_check_shows_its_error_not_a_latency_and_a_heartbeat_block(page, dashboard):
    dashboard.services["beta"].stop()
    wait_for(lambda: row(page, "beta").get_attribute("data-status") == "down", what="beta down", page=page)
    cell = row(page, "beta").locator("td").nth(2)  # "Latency"
    wait_for(lambda: "ms" not in cell.inner_text(), what="no latency for a failed check", page=page)
    assert cell.get_attribute("title") and cell.inner_text().strip()  # the error instead
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    # Read in one go: each result redraws the row's SVG (every 0.5 s here).
    newest, first_up, centre = spark(page, "beta").evaluate(
        """svg => { const beats = [...svg.querySelectorAll('.mc-beat')]; const last = beats[beats.length - 1];
        const up = svg.querySelector(".mc-beat[data-status='up']"); const b = last.getBoundingClientRect();
        return [[last.dataset.status, last.tagName, last.getAttribute('stroke')], up && up.tagName,
                [b.x + b.width / 2, b.y + b.height / 2]]; }"""
    )
    # Status by shape and colour: a failed check is a red cross, an up check a solid block.
    assert newest == ["down", "path", "#dc3545"]
    assert first_up == "rect"
    # Hover says time (local, with its offset), status and error.
    page.mouse.move(*centre)
    tip = page.locator("#mc-spark-tip")
    wait_for(lambda: tip.is_visible() and " · DOWN · " in tip.inner_text(), what="the block's tooltip", page=page)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d · DOWN · ", tip.inner_text())
    # The latency line has no point for the failed checks: they sit as marks below it instead.
    fails = spark(page, "beta").locator(".mc-spark-fail")
    wait_for(lambda: fails.count() >= 2, what="two failed checks under the line", page=page)


def line_segments(page, name: str) -> int:
    path = spark(page, name).locator("path.mc-spark-line")
    return (path.get_attribute("d") or "").count("M") if path.count() else 0


def test_sparkline_and_chart_break_where_nothing_was_measured(page, dashboard):
    monitor = dashboard.core.monitor
    monitor.interval = 2.5  # a pause of ~5 intervals of 0.5 s
    page.wait_for_timeout(3000)
    monitor.interval = 0.5
    monitor.trigger_sweep()
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    # Inside the row: a break, not a straight line across the pause (alpha answered every check).
    wait_for(lambda: line_segments(page, "alpha") >= 2, what="a break in alpha's line", page=page)
    assert spark(page, "alpha").locator(".mc-spark-gap").count() >= 1  # and a mark where nothing was measured
    row(page, "alpha").locator("td").nth(2).click()
    wait_for(lambda: page.evaluate(f"!!({CHART} && {CHART}.layout.meta)"), what="the chart", page=page)
    assert page.evaluate(f"{CHART}.data[0].y.some(y => y === null)")


@pytest.mark.parametrize("window,hours", [("24 h", 24), ("7 d", 168)])
def test_the_chart_spans_the_chosen_window_even_with_a_short_history(page, window, hours):
    row(page, "alpha").locator("td").nth(2).click()
    wait_for(lambda: page.evaluate(f"!!({CHART} && {CHART}.layout.meta)"), what="the chart", page=page)
    page.locator("#mc-details-window label", has_text=window).click()
    key = window.replace(" ", "")
    wait_for(lambda: page.evaluate(f"{CHART}.layout.meta.window") == key, what=f"the {window} chart", page=page)

    def span_hours():
        lo, hi = page.evaluate(f"{CHART}._fullLayout.xaxis.range.map(v => new Date(v).getTime())")
        return (hi - lo) / 3_600_000

    wait_for(lambda: span_hours() >= hours * 0.98, what=f"an x axis of {hours} h", page=page)
    assert span_hours() < hours * 1.2  # autorange pads the ends a little
