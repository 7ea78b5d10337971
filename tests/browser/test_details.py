"""Service details and the actions that reach the server: Check now, Recover now, Clear log."""

from __future__ import annotations

import pytest

from tests.browser.conftest import row, wait_for, wait_live

pytestmark = pytest.mark.timeout(60)

CHART = "#mc-details-chart .js-plotly-plot"


def chart(page, expression: str):
    script = (
        f"(() => {{ const gd = document.querySelector('{CHART}'); return gd && gd.layout.meta && ({expression}); }})()"
    )
    return page.evaluate(script)


def open_details(page, name: str) -> None:
    row(page, name).locator("td").nth(2).click()  # anywhere on the row, not only its name
    page.wait_for_selector("#mc-details.show")
    wait_for(lambda: chart(page, "gd.layout.meta.service") == name, what=f"the chart of {name}")
    wait_for(lambda: page.locator("#mc-details-title").inner_text().startswith(name), what="the drawer's panel")


def test_row_click_opens_the_details_with_a_chart(page, dashboard):
    open_details(page, "alpha")
    assert page.locator("#mc-details-title").inner_text().startswith("alpha")
    assert chart(page, "gd._fullData[0].x.length") >= 2  # latency points from the history
    assert chart(page, "gd.layout.xaxis.rangeslider.visible") is True
    assert "Target" in page.locator("#mc-details-probe").inner_text()
    assert f"127.0.0.1:{dashboard.services['alpha'].port}" in page.locator("#mc-details-probe").inner_text()
    wait_for(lambda: page.locator("#mc-details-checks tbody tr").count() >= 2, what="recent checks")
    assert "table-active" in row(page, "alpha").get_attribute("class")
    page.locator("#mc-details-window label", has_text="24 h").click()
    wait_for(lambda: chart(page, "gd.layout.meta.window") == "24h", what="the 24 h window")


def test_zoom_survives_the_next_live_update(page):
    open_details(page, "beta")
    assert chart(page, "gd._fullLayout.xaxis.autorange") is True  # the figure itself never fixes a range
    box = page.locator(f"{CHART} .nsewdrag").first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.60, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.95, y, steps=6)
    page.mouse.up()
    wait_for(lambda: chart(page, "gd._fullLayout.xaxis.autorange") is False, what="the zoom", page=page)
    zoomed = chart(page, "gd._fullLayout.xaxis.range")
    sweep = chart(page, "gd.layout.meta.sweep")
    wait_for(lambda: (chart(page, "gd.layout.meta.sweep") or 0) > (sweep or 0) + 1, what="two live updates")
    assert chart(page, "gd._fullLayout.xaxis.range") == zoomed
    assert page.locator("#mc-details.show").count() == 1  # still open


def test_check_now_runs_a_sweep_and_shows_its_result(page, dashboard):
    before = dashboard.core.monitor.snapshot()["sweep"]
    page.click("#mc-check-now")
    toast = page.locator("#mc-toast")
    toast.wait_for(state="visible")
    wait_for(lambda: "done" in toast.inner_text(), what="the sweep result")
    swept = int(page.locator("#mc-toast [data-sweep]").get_attribute("data-sweep"))
    assert swept > before
    assert "3 up" in toast.inner_text()

    open_details(page, "alpha")
    page.click("#mc-details-check")
    result = page.locator("#mc-details-result .mc-action-result[data-action='check']")
    result.wait_for()
    assert "Checked at" in result.inner_text() and "UP" in result.inner_text()


def test_recover_now_asks_first_then_runs_the_action(page, dashboard):
    service = dashboard.services["gamma-slow"]
    open_details(page, "gamma-slow")
    page.click("#mc-details-recover")
    page.wait_for_selector(".modal.show #mc-recover-modal")
    assert "gamma-slow" in page.locator("#mc-recover-modal-body").inner_text()
    page.click("#mc-recover-cancel")
    wait_for(lambda: page.locator(".modal.show #mc-recover-modal").count() == 0, what="the dialog to close")
    assert service.restarts == 0  # cancelled: nothing ran

    page.click("#mc-details-recover")
    page.wait_for_selector(".modal.show #mc-recover-modal")
    page.click("#mc-recover-confirm")
    result = page.locator("#mc-details-result .mc-action-result[data-action='recover']")
    result.wait_for()
    assert "Recovery of gamma-slow" in result.inner_text()  # "started", then followed to its outcome
    wait_for(lambda: service.restarts == 1, what="the recovery action to reach the service")
    log_row = page.locator("#mc-log-body tbody tr", has_text="gamma-slow")
    wait_for(lambda: log_row.count() >= 1, what="the attempt in the recovery log", page=page)
    assert "manual" in log_row.first.inner_text()
    wait_for(lambda: page.locator("#mc-details-recoveries tbody tr").count() >= 1, what="the service's history")


def test_recover_now_is_not_offered_for_a_service_without_a_recovery_action(page, dashboard):
    open_details(page, "beta")  # action "none"
    wait_for(lambda: page.locator("#mc-details-recover").is_disabled(), what="Recover now to be disabled")
    assert page.locator("#mc-maint-toggle").is_enabled()  # maintenance needs no action
    page.keyboard.press("Escape")
    wait_for(lambda: page.locator("#mc-details.show").count() == 0, what="the details to close")
    open_details(page, "alpha")
    wait_for(lambda: page.locator("#mc-details-recover").is_enabled(), what="Recover now to be enabled")


def test_clear_recovery_log_asks_first(page, dashboard):
    dashboard.core.recovery_log.append(
        {
            "id": "t1",
            "time": "2026-01-01T00:00:00+00:00",
            "service": "alpha",
            "trigger": "manual",
            "action": "http",
            "outcome": "recovered",
        }
    )
    page.reload()
    wait_live(page)
    assert page.locator("#mc-log-body tbody tr").count() == 1
    page.click("#mc-log-clear")
    page.wait_for_selector(".modal.show #mc-clear-modal")
    page.click("#mc-clear-cancel")
    wait_for(lambda: page.locator(".modal.show #mc-clear-modal").count() == 0, what="the dialog to close")
    assert dashboard.core.recovery_log.recent() != []

    page.click("#mc-log-clear")
    page.wait_for_selector(".modal.show #mc-clear-modal")
    page.click("#mc-clear-confirm")
    wait_for(lambda: "Cleared 1" in page.locator("#mc-log-result").inner_text(), what="the confirmation")
    assert dashboard.core.recovery_log.recent() == []
    assert page.locator("#mc-log-body tbody tr").count() == 0


def test_maintenance_switch_reaches_the_engine_and_flags_the_row(page, dashboard):
    open_details(page, "beta")
    toggle = page.locator("#mc-maint-toggle")
    assert toggle.inner_text().strip() == "Start maintenance"
    toggle.click()
    result = page.locator("#mc-details-result .mc-action-result[data-action='maintenance']")
    result.wait_for()
    assert "beta is in maintenance for 60 min" in result.inner_text()
    flag = row(page, "beta").locator("[data-flag='maintenance']")
    wait_for(lambda: flag.count() == 1, what="the maintenance flag on the row", page=page)
    wait_for(lambda: toggle.inner_text().strip() == "End maintenance", what="the button to offer the end")
    assert dashboard.core.monitor.snapshot()["services"][1]["maintenance"] is True
    toggle.click()
    wait_for(lambda: flag.count() == 0, what="the flag to go", page=page)
    assert "ended" in result.inner_text()
