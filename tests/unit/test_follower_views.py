"""What a follower shows: no sweep of its own, the leader named, the clock from the leader's sweeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from callbacks.header import clock_data
from ops.core import Core, follower_text

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def fake_core(is_leader: bool, leader: dict | None = None) -> SimpleNamespace:
    leadership = SimpleNamespace(is_leader=is_leader, leader=lambda: leader)
    return SimpleNamespace(leadership=leadership, monitor=SimpleNamespace(next_run=NOW + timedelta(seconds=3)))


def test_a_follower_refuses_to_sweep_and_names_the_leader():
    leader = {"id": "host:1:abcd", "since": NOW.isoformat(), "is_me": False}
    refusal = Core.not_leading(fake_core(False, leader))
    assert refusal == {"reason": "not_leader", "leader": leader}
    assert "host:1:abcd" in follower_text(leader) and "none known" in follower_text(None)
    assert Core.not_leading(fake_core(True)) is None


def test_a_followers_clock_counts_from_the_leaders_last_sweep_not_its_idle_loop():
    follower, leader = fake_core(False), fake_core(True)
    assert Core.next_sweep(follower) is None and Core.next_sweep(leader) == NOW + timedelta(seconds=3)
    snapshot = {"time": NOW.isoformat(), "sweep": 7}
    assert clock_data(snapshot, Core.next_sweep(follower), 30)["next"] == (NOW + timedelta(seconds=30)).isoformat()
