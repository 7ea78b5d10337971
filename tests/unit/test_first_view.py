"""The rows whose sparklines the page's head script asks for: the table's first under its default sort."""

from __future__ import annotations

from urllib.parse import parse_qs

from callbacks.table import DEFAULT_SORT
from callbacks.view import VIRTUAL_MIN, first_view_query, table_view
from layouts.page import live_config


def asked(query: str) -> list[str]:
    return parse_qs(query)["service"]


def test_worst_status_first_then_needing_attention_then_name_regardless_of_case():
    views = [{"name": f"svc-{i:03d}", "status": "up"} for i in range(VIRTUAL_MIN)]
    views += [
        {"name": "b-down", "status": "down"},
        {"name": "A-down", "status": "down"},
        {"name": "z-attention", "status": "down", "needs_attention": True},
        {"name": "paused", "status": "up", "maintenance": True},
        {"name": "off", "status": "up", "enabled": False},
        {"name": "slow & odd/name", "status": "degraded"},
    ]
    query = first_view_query({"services": views}, count=8)
    worst = ["z-attention", "A-down", "b-down", "slow & odd/name", "paused"]
    assert asked(query) == [*worst, "svc-000", "svc-001", "svc-002"]
    assert parse_qs(query)["points"] == ["30"]


def test_a_fleet_the_page_draws_whole_asks_for_all_of_it_itself():
    views = [{"name": f"svc-{i}", "status": "up"} for i in range(VIRTUAL_MIN)]
    assert first_view_query({"services": views}) == ""
    assert first_view_query({}) == ""


def test_the_browser_table_takes_its_virtual_min_and_default_sort_from_the_server():
    # What both the page's early data (#mc-early) and the LIVE_CONFIG store carry to assets/22_mc_table.js.
    table = live_config(table=table_view(VIRTUAL_MIN + 1))["table"]
    assert table["virtual_min"] == VIRTUAL_MIN
    assert table["sort"] == DEFAULT_SORT


def test_the_guess_orders_rows_as_the_default_sort_does():
    # first_view_query sorts by status_order, the status column ascending: the table's default must be that.
    assert DEFAULT_SORT == {"col": "status", "dir": "asc"}
