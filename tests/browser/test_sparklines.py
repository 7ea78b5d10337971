"""The sparkline column: one figure beside the table, a band per row, native plotly hover labels."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import row, table_sweep, wait_for, wait_for_table_sweep

pytestmark = pytest.mark.timeout(60)

# Page coordinates of the last point of row `name` (the markers trace holds each row's latest check).
POINT_JS = """
(name) => {
  const gd = document.querySelector('#mc-spark-graph .js-plotly-plot');
  const order = gd.layout.meta.order;
  const band = order.indexOf(name);
  const dots = gd._fullData[1];
  let k = -1;
  for (let i = 0; i < dots.y.length; i++) if (Math.floor(dots.y[i]) === band) k = i;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(xa.d2l(dots.x[k])), y: box.top + ya._offset + ya.l2p(dots.y[k]),
          text: dots.text[k], band};
}
"""


def test_hovering_a_sparkline_point_shows_its_latency(page, dashboard):
    wait_for_table_sweep(page, wait_for_table_sweep(page, 0))
    # Freeze the page (no redraw under the mouse): cut the socket and keep it and the fallback away.
    page.route("**/api/info", lambda route: route.abort())
    page.route("**/api/health", lambda route: route.abort())
    page.evaluate("window.mcLive.ws.close()")
    wait_for(lambda: page.evaluate("window.mcLive.state") != "live", what="a still page", page=page)
    page.wait_for_timeout(300)  # the last update in flight lands
    point = page.evaluate(POINT_JS, "gamma-slow")
    page.mouse.move(point["x"] - 30, point["y"])
    page.mouse.move(point["x"], point["y"], steps=4)
    label = page.locator("#mc-spark-graph .hoverlayer .hovertext")
    label.wait_for(state="visible")
    text = label.text_content()
    assert re.search(r"\d{2}:\d{2}:\d{2} · \d+(\.\d)? ms · UP", text), text
    assert point["text"] in text
    assert "\n" not in text.strip()  # one line: two-line labels vanish in short plots
    latency = float(re.search(r"(\d+(?:\.\d)?) ms", text).group(1))
    assert latency >= 100  # gamma-slow's handler sleeps 120 ms
    box = label.bounding_box()
    assert box and box["width"] > 0 and box["y"] >= 0


def test_sparkline_bands_line_up_with_their_rows(page):
    centres = page.evaluate(
        """() => {
          const gd = document.querySelector('#mc-spark-graph .js-plotly-plot');
          const ya = gd._fullLayout.yaxis, top = gd.getBoundingClientRect().top + ya._offset;
          return gd.layout.meta.order.map((name, i) => {
            const r = document.querySelector(`#mc-table-body tr[data-service='${name}']`).getBoundingClientRect();
            return [name, top + ya.l2p(i + 0.5), r.top + r.height / 2];
          });
        }"""
    )
    assert len(centres) == 3
    for name, band, row_middle in centres:
        assert abs(band - row_middle) <= 3, f"{name}: band at {band:.0f}px, row at {row_middle:.0f}px"


def test_sparklines_follow_the_row_order(page):
    page.locator("button.mc-sort", has_text="Service").click()
    wait_for(
        lambda: (
            page.evaluate("document.querySelector('#mc-spark-graph .js-plotly-plot').layout.meta.order")
            == ["alpha", "beta", "gamma-slow"]
        ),
        what="the figure to follow the sort",
    )
    page.locator("button.mc-sort", has_text="Service").click()
    wait_for(
        lambda: (
            page.evaluate("document.querySelector('#mc-spark-graph .js-plotly-plot').layout.meta.order")
            == ["gamma-slow", "beta", "alpha"]
        ),
        what="the figure to follow the reversed sort",
    )
    sweep = wait_for_table_sweep(page, table_sweep(page))
    assert sweep and row(page, "alpha").count() == 1
