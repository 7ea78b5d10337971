"""A full disk (a real 2 MB tmpfs) puts a banner in the header while the table stays live; it goes when space frees."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import TestService, open_page, row, service_config, wait_for
from tests.integration.test_disk_full import mounted_tmpfs

pytestmark = pytest.mark.timeout(90)

BANNER = "#mc-storage-banner"


@pytest.fixture
def full_disk_dashboard(tmp_path):
    from config import settings_from_dict
    from dash_app.factory import create_app

    service = TestService("alpha")
    # A short interval: after the disk fills, each file still takes lines until its last 4 KiB page is full.
    settings = settings_from_dict({"services": [service_config(service)], "interval_s": 0.2}, "browser test")
    with mounted_tmpfs(tmp_path / "disk") as disk:
        app = create_app(settings, data_dir=disk.path, start_monitor=True)
        app.serve("127.0.0.1", 0, 0)
        try:
            yield app, service, disk
        finally:
            app.stop()
            service.stop()


def banner_text(page) -> str:
    return page.locator(BANNER).inner_text() if page.locator(f"{BANNER} [role=alert]").count() else ""


def test_banner_shows_while_the_disk_is_full_and_goes_when_space_frees(browser, full_disk_dashboard):
    app, service, disk = full_disk_dashboard
    context, page, record = open_page(browser, f"http://127.0.0.1:{app.http.port}/")
    try:
        assert banner_text(page) == "" and not page.locator(BANNER).is_visible()
        disk.fill()
        # The history's last page may hold ~25 more sweeps; a loaded machine sweeps slower than the interval.
        wait_for(lambda: banner_text(page), what="the full-disk banner", page=page, timeout=45)
        # The history or a rollup file, whichever wrote first once the disk was full: both are true.
        assert re.match(r"(History|Rollups \((minutes|hours)\)) is not being saved: disk full", banner_text(page))
        assert page.locator(f"{BANNER} [role=alert]").is_visible()

        service.stop()  # the page still follows the real status while nothing is saved
        wait_for(lambda: row(page, "alpha").get_attribute("data-status") == "down", what="alpha DOWN", page=page)
        assert "disk full" in banner_text(page)

        disk.free()
        wait_for(lambda: banner_text(page) == "", what="the banner to go", page=page)
        assert record.console_errors() == []
    finally:
        context.close()
