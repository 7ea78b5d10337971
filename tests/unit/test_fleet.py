"""The one fleet rule (ops/fleet.py): overall status, counts and the severity order."""

from __future__ import annotations

from datetime import UTC, datetime

from ops.fleet import SEVERITY, fleet_status, fleet_summary, severity
from ops.snapshot import build_snapshot


def view(name: str, status: str, **extra) -> dict:
    return {"name": name, "status": status, "enabled": True, **extra}


def test_services_in_maintenance_count_only_as_maintenance():
    summary = fleet_summary([view("a", "down", maintenance=True), view("b", "up")])
    assert summary == {"overall": "up", "counts": {"up": 1, "degraded": 0, "down": 0, "pending": 0, "maintenance": 1}}


def test_a_fleet_all_in_maintenance_is_maintenance_not_pending():
    # Seen in issue 10: the API said "pending" with {down: 2, maintenance: 2}, the page "maintenance".
    summary = fleet_summary([view("a", "down", maintenance=True), view("b", "down", maintenance=True)])
    assert summary["overall"] == "maintenance"
    assert summary["counts"] == {"up": 0, "degraded": 0, "down": 0, "pending": 0, "maintenance": 2}


def test_disabled_services_are_not_counted_and_an_empty_fleet_is_pending():
    summary = fleet_summary([view("a", "disabled", enabled=False), view("b", "degraded")])
    assert summary["overall"] == "degraded" and sum(summary["counts"].values()) == 1
    assert fleet_summary([])["overall"] == "pending"
    assert fleet_summary([view("a", "down"), view("b", "pending")])["overall"] == "down"
    assert fleet_summary([view("a", "pending")])["overall"] == "pending"


def test_snapshot_carries_the_fleet_rule():
    services = [view("a", "down", maintenance=True), view("b", "down", maintenance=True)]
    snapshot = build_snapshot(datetime.now(UTC), services, {}, 1)
    assert snapshot["overall"] == "maintenance" and snapshot["counts"]["down"] == 0


def test_one_severity_order_worst_first():
    assert SEVERITY[0] == "down" and severity("down") < severity("degraded") < severity("pending")
    assert severity("pending") < severity("maintenance") < severity("up") < severity("disabled")
    assert severity("whatever") == len(SEVERITY)
    assert fleet_status(view("a", "down", maintenance=True)) == "maintenance"
    assert fleet_status(view("a", "up", enabled=False)) == "disabled"
