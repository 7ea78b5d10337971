"""Leadership over a real PostgreSQL: one of several leads; a lost connection hands it over."""

from __future__ import annotations

import threading
import time

import pytest

from ops.leader import Leadership, SoleLeader
from tests.support import wait_for

INTERVAL_S = 0.4  # ticks every 0.1 s


class Recorder:
    """Counts gains and losses, and the time of the last of each."""

    def __init__(self) -> None:
        self.gains = self.losses = 0
        self.gained = threading.Event()
        self.lost = threading.Event()

    def gain(self) -> None:
        self.gains += 1
        self.gained.set()

    def loss(self) -> None:
        self.losses += 1
        self.lost.set()


@pytest.fixture
def pair(pg_cluster):
    cluster = pg_cluster()
    made = []

    def make() -> tuple[Leadership, Recorder]:
        recorder = Recorder()
        made.append(Leadership(cluster.dsn(), INTERVAL_S, on_gain=recorder.gain, on_loss=recorder.loss))
        made[-1].start()
        return made[-1], recorder

    yield cluster, make
    for leadership in made:
        leadership.stop()


def leaders(*candidates: Leadership) -> list[Leadership]:
    return [c for c in candidates if c.is_leader]


def test_exactly_one_of_two_leads_and_the_other_names_it(pair):
    _, make = pair
    (a, ra), (b, rb) = make(), make()
    wait_for(lambda: len(leaders(a, b)) == 1, message="a leader")
    (leader,) = leaders(a, b)
    follower = b if leader is a else a
    seen = wait_for(follower.leader, message="the follower to read who leads")
    assert seen["id"] == leader.leader_id and seen["is_me"] is False
    assert leader.leader()["is_me"] is True and leader.role() == "leader" and follower.role() == "follower"
    time.sleep(10 * a.tick)  # many more tries: nobody else ever gets the lock
    assert leaders(a, b) == [leader] and ra.gains + rb.gains == 1 and ra.losses + rb.losses == 0


def test_follower_takes_over_when_the_leaders_connection_is_terminated(pair):
    cluster, make = pair
    (a, ra), (b, rb) = make(), make()
    wait_for(lambda: len(leaders(a, b)) == 1, message="a leader")
    old, new = (a, b) if a.is_leader else (b, a)
    old_rec, new_rec = (ra, rb) if old is a else (rb, ra)
    with cluster.admin(autocommit=True) as admin:
        (pid,) = admin.execute("SELECT backend_pid FROM mc_leader").fetchone()
        began = time.monotonic()
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: new.is_leader, timeout=5, interval=0.01, message="the follower to take over")
    takeover_s = time.monotonic() - began
    assert old_rec.lost.wait(5), "the old leader never noticed its loss"
    assert not old.is_leader and new_rec.gains == 1
    assert takeover_s < 2 * INTERVAL_S, f"takeover took {takeover_s:.2f}s"
    seen = wait_for(old.leader, message="the old leader to follow the new one")
    assert seen["id"] == new.leader_id
    print(f"\nLeadership takeover after pg_terminate_backend: {takeover_s * 1000:.0f} ms")


def test_a_leader_steps_down_on_stop_and_the_other_leads(pair):
    _, make = pair
    (a, ra), (b, rb) = make(), make()
    wait_for(lambda: len(leaders(a, b)) == 1, message="a leader")
    old, new = (a, b) if a.is_leader else (b, a)
    old.stop()
    assert (ra if old is a else rb).losses == 1
    wait_for(lambda: new.is_leader, timeout=5, message="the other to lead")


def test_without_postgresql_the_one_process_always_leads():
    sole = SoleLeader()
    sole.start()
    assert sole.is_leader and sole.role() == "single" and sole.leader()["is_me"] is True
    sole.stop()
