"""What the page shows is true: one fleet rule, local times, failed checks without latency, gaps,
the heartbeat strip and the chart's window (issue 10, items 1, 2, 4, 5, 6)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import DEADLINE_S, row, wait_for, wait_for_table_sweep, wait_live

pytestmark = pytest.mark.timeout(60)

SPARK = "document.querySelector('#mc-spark-graph .js-plotly-plot')"
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


def test_a_failed_check_shows_its_error_not_a_latency_and_a_heartbeat_block(page, dashboard):
    dashboard.services["beta"].stop()
    wait_for(lambda: row(page, "beta").get_attribute("data-status") == "down", what="beta down", page=page)
    cell = row(page, "beta").locator("td").nth(2)  # "Latency"
    wait_for(lambda: "ms" not in cell.inner_text(), what="no latency for a failed check", page=page)
    assert cell.get_attribute("title") and cell.inner_text().strip()  # the error instead
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    beats = page.evaluate(
        f"""(() => {{ const gd = {SPARK}; const band = gd.layout.meta.order.indexOf('beta'); const out = {{}};
        for (const t of gd.data.filter(t => t.name.startsWith('heartbeat'))) {{
          const mine = [];
          for (let i = 0; i < t.y.length; i++)
            if (t.y[i] !== null && Math.floor(t.y[i]) === band) mine.push([t.x[i], t.text[i]]);
          out[t.name] = {{points: mine, symbol: t.marker && t.marker.symbol, colour: (t.marker || t.line).color}};
        }}
        return out; }})()"""
    )
    down, up = beats["heartbeat down"], beats["heartbeat up"]
    assert (down["symbol"], down["colour"]) == ("x", "#dc3545")  # status by shape and colour
    newest = max(x for x, _ in down["points"])
    assert newest > max(x for x, _ in up["points"])  # the newest check, on the right, failed
    assert " · DOWN · " in dict(down["points"])[newest]  # time, status and error on hover
    # The up blocks are dashed into one block per check (one path for all rows, cheap to draw).
    dash = page.evaluate(
        f"[...{SPARK}.querySelectorAll('path.js-line')].filter(p => p.style.strokeWidth === '6px')"
        ".map(p => p.style.strokeDasharray)"
    )
    assert dash and all(d.endswith("px") for d in dash)
    # The latency line has no point for the failed checks: it breaks there.
    assert page.evaluate(f"{SPARK}.data[0].y.filter(y => y === null).length") >= 3


def test_sparkline_and_chart_break_where_nothing_was_measured(page, dashboard):
    monitor = dashboard.core.monitor
    monitor.interval = 2.5  # a pause of ~5 intervals of 0.5 s
    page.wait_for_timeout(3000)
    monitor.interval = 0.5
    monitor.trigger_sweep()
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    gaps = page.evaluate(
        f"""(() => {{ const gd = {SPARK}; const y = gd.data[0].y; const x = gd.data[0].x; let n = 0;
        for (let i = 1; i < y.length - 1; i++)
          if (y[i] === null && y[i-1] !== null && y[i+1] !== null && Math.floor(y[i-1]) === Math.floor(y[i+1])) n++;
        return n; }})()"""
    )
    assert gaps >= 1  # inside a row: a break, not a straight line across the pause
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
