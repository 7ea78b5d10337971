"""The recovery log says why an attempt failed, on the row itself, with the whole output on hover."""

from __future__ import annotations

import pytest

from tests.browser.conftest import wait_for, wait_live

pytestmark = pytest.mark.timeout(60)

STDERR = "Stopping bytebot-agent\nError response from daemon: No such container: bytebot-agent\n"


def failed(entry_id: str, **extra) -> dict:
    return {
        "id": entry_id,
        "time": "2026-01-01T00:00:00+00:00",
        "service": "alpha",
        "trigger": "manual",
        "action": "command",
        "attempt": 1,
        "outcome": "action_failed",
        "duration_s": 0.2,
        **extra,
    }


def detail(page, entry_id: str):
    return page.locator(f"#mc-log-body tr[data-entry='{entry_id}'] .mc-log-detail")


def test_a_failed_attempt_shows_its_reason_in_one_line_and_all_of_it_on_hover(page, dashboard):
    dashboard.core.recovery_log.append(failed("f1", error="exit code 1", exit_code=1, output_tail=STDERR))
    page.reload()
    wait_live(page)
    cell = detail(page, "f1")
    assert " ".join(cell.locator("span").all_inner_texts()) == (
        "exit code 1 · Error response from daemon: No such container: bytebot-agent · 0.2 s"
    )
    assert cell.get_attribute("title") == f"exit code 1\n{STDERR.strip()}\n0.2 s"
    assert cell.bounding_box()["height"] < 2 * 24  # one line, whatever the length

    long_body = "upstream answered: " + "busy " * 200
    entry = failed("f2", action="http", error="webhook answered HTTP 503", output_tail=long_body)
    dashboard.core.recovery_log.append(entry)
    dashboard.core.bus.publish({"type": "recovery", "entry": entry})  # as the engine does: live, no reload
    cell = detail(page, "f2")
    wait_for(lambda: cell.count() == 1, what="the pushed attempt in the log", page=page)
    reason, facts = cell.locator("span").all()
    assert reason.inner_text().startswith("webhook answered HTTP 503 · upstream answered: busy")
    assert reason.inner_text().endswith("…") and long_body.strip() in cell.get_attribute("title")
    assert cell.bounding_box()["height"] < 2 * 24
    # the reason is clipped with an ellipsis where the cell ends; the duration stays whole and visible
    assert reason.evaluate("el => getComputedStyle(el).textOverflow") == "ellipsis"
    assert reason.evaluate("el => el.scrollWidth > el.clientWidth")
    assert facts.inner_text() == "· 0.2 s" and facts.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert page.record.console_errors() == []
