"""Theme switch (persisted, no flash) and CSV export as a real browser download."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.browser.conftest import open_page, wait_for

pytestmark = pytest.mark.timeout(60)

THEME_AT_LOAD = """
document.addEventListener('DOMContentLoaded', () => {
  window.__themeAtLoad = document.documentElement.getAttribute('data-bs-theme');
});
"""
CSV_HEADER = ["ts", "service", "status", "latency_ms", "http_status", "error"]


def theme(page) -> str:
    return page.evaluate("document.documentElement.getAttribute('data-bs-theme')")


def test_theme_switch_changes_the_colour_mode_and_survives_a_reload(page):
    page.context.add_init_script(THEME_AT_LOAD)
    assert theme(page) == "light"
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.locator("label[for='mc-theme-switch']").click()
    wait_for(lambda: theme(page) == "dark", what="dark mode", page=page)
    assert page.evaluate("localStorage.getItem('mc-theme')") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light_bg

    page.reload()
    page.wait_for_selector("#mc-table-body tr.mc-row")
    assert page.evaluate("window.__themeAtLoad") == "dark"  # set in <head>: no flash of the light page
    assert page.is_checked("#mc-theme-switch")

    page.locator("label[for='mc-theme-switch']").click()
    wait_for(lambda: theme(page) == "light", what="light mode", page=page)
    page.reload()
    page.wait_for_selector("#mc-table-body tr.mc-row")
    assert page.evaluate("window.__themeAtLoad") == "light"
    assert not page.is_checked("#mc-theme-switch")


def test_a_dark_system_gets_the_dark_page_until_the_operator_chooses(browser, dashboard):
    context, page, record = open_page(browser, dashboard.url, color_scheme="dark")
    try:
        assert theme(page) == "dark"
        wait_for(lambda: page.is_checked("#mc-theme-switch"), what="the switch to follow", page=page)
        assert page.evaluate("localStorage.getItem('mc-theme')") is None  # following the system, not a choice
        assert record.console_errors() == []
    finally:
        context.close()


def read_download(page, click: str) -> tuple[str, list[list[str]]]:
    with page.expect_download() as info:
        page.click(click)
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    return download.suggested_filename, list(csv.reader(io.StringIO(text)))


def test_csv_export_holds_a_header_and_the_rows_shown(page, dashboard):
    shown = page.eval_on_selector_all("#mc-table-body tr.mc-row", "rows => rows.map(r => r.dataset.service)")
    page.select_option("#mc-export-window", "1h")
    name, rows = read_download(page, "#mc-export-button")
    assert re.fullmatch(r"health-history_all-services_1h_\d{8}T\d{6}Z\.csv", name)
    assert rows[0] == CSV_HEADER
    body = rows[1:]
    assert {r[1] for r in body} == set(shown)
    sweeps = len({r[0] for r in body})
    assert sweeps >= 2 and len(body) >= sweeps * len(shown) - len(shown)
    latest_slow = [float(r[3]) for r in body if r[1] == "gamma-slow" and r[3]]
    assert latest_slow and min(latest_slow) >= 100


def test_service_csv_holds_only_that_service(page):
    page.locator("#mc-table-body tr[data-service='alpha'] td").nth(2).click()
    page.wait_for_selector("#mc-details.show")
    name, rows = read_download(page, "#mc-details-csv")
    assert name.startswith("health-history_alpha_1h_")
    assert rows[0] == CSV_HEADER
    assert len(rows) > 2 and {r[1] for r in rows[1:]} == {"alpha"}
