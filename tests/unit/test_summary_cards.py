"""The summary cards follow the one fleet rule (ops/fleet.py): counts and overall from the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

from callbacks.summary import summary_from
from layouts.cards import summary_cards
from ops.fleet import fleet_summary

NOW = datetime.now(UTC)
NO_CHECKS = None  # the fleet p95 of an empty last hour


def snapshot(*statuses: str, **flags) -> dict:
    views = [{"name": f"s{i}", "status": s, "enabled": True, **flags.get(f"s{i}", {})} for i, s in enumerate(statuses)]
    return {"services": views, **fleet_summary(views)}


def services_card(snap: dict) -> tuple[str, str, bool]:
    """(value, sub text, red?) of the "Services up" card."""
    card = summary_cards(summary_from(snap, NO_CHECKS, [], NOW))[0].children
    value, sub = card.children[1].children, card.children[2].children
    return value, sub, "mc-alert" in card.className


def test_a_degraded_service_is_not_up_and_the_fleet_is_not_all_healthy():
    snap = snapshot("up", "up", "up", "up", "degraded")
    assert snap["overall"] == "degraded"
    summary = summary_from(snap, NO_CHECKS, [], NOW)
    assert (summary["up"], summary["total"], summary["overall"]) == (4, 5, "degraded")
    assert services_card(snap) == ("4 / 5", "1 degraded", False)


def test_a_pending_service_is_not_healthy_either():
    assert services_card(snapshot("up", "pending")) == ("1 / 2", "1 pending", False)
    assert services_card(snapshot("pending", "pending")) == ("0 / 2", "2 pending", False)


def test_the_card_says_what_the_header_says():
    assert services_card(snapshot("up", "up")) == ("2 / 2", "all healthy", False)
    assert services_card(snapshot("up", "down", "degraded")) == ("1 / 3", "1 down, 1 degraded", True)
    # Maintenance counts only as maintenance (never as down), and a disabled service not at all.
    snap = snapshot("up", "down", "up", s1={"maintenance": True}, s2={"enabled": False})
    assert services_card(snap) == ("1 / 2", "1 in maintenance", False)
    assert services_card(snapshot("down", s0={"maintenance": True})) == ("0 / 1", "all in maintenance", False)
    assert services_card({"services": []}) == ("0 / 0", "no services", False)


def test_the_counts_are_the_servers_never_a_sum_of_the_services():
    # The snapshot's counts rule, even where its service list would say otherwise.
    snap = {"services": [{"name": "a", "status": "up"}], "overall": "down", "counts": {"up": 3, "down": 1}}
    summary = summary_from(snap, NO_CHECKS, [], NOW)
    assert (summary["up"], summary["total"], summary["down"]) == (3, 4, 1)
    assert services_card(snap) == ("3 / 4", "1 down", True)
