"""Leadership over a real PostgreSQL: one of several leads; a lost connection hands it over."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import psycopg
import pytest

from ops.events import EventBus
from ops.leader import Leadership, SoleLeader, connect_args
from ops.live_relay import CHANNEL, LiveRelay
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


def test_is_leader_turns_true_only_after_the_take_over_is_done(pg_cluster):
    cluster = pg_cluster()
    seen: dict[str, bool] = {}
    leadership: Leadership

    def take_over() -> None:
        seen["at_gain"] = leadership.is_leader
        time.sleep(0.5)  # a slow restore: nothing may act on is_leader meanwhile
        seen["end_of_gain"] = leadership.is_leader

    def ready() -> None:
        seen["at_ready"] = leadership.is_leader

    leadership = Leadership(cluster.dsn(), INTERVAL_S, on_gain=take_over, on_ready=ready)
    leadership.start()
    try:
        wait_for(lambda: "at_ready" in seen, message="the leadership and its take-over")
        assert seen == {"at_gain": False, "end_of_gain": False, "at_ready": True}
    finally:
        leadership.stop()


def test_sessions_carry_the_server_side_keepalives_and_a_statement_timeout(pg_cluster):
    cluster = pg_cluster()
    with psycopg.connect(cluster.dsn(), **connect_args(cluster.dsn(), 1500)) as conn:
        show = {
            name: conn.execute(f"SHOW {name}").fetchone()[0] for name in ("tcp_keepalives_idle", "statement_timeout")
        }
    assert show == {"tcp_keepalives_idle": "5", "statement_timeout": "1500ms"}


@contextmanager
def frozen_backend(cluster):
    """SIGSTOP the leader's backend (a hung server: its kernel still ACKs, it answers nothing); always SIGCONT."""
    with cluster.admin(autocommit=True) as admin:
        (pid,) = admin.execute("SELECT backend_pid FROM mc_leader").fetchone()
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_leader_whose_backend_freezes_steps_down_and_stops_within_a_bound(pair):
    cluster, make = pair
    (a, ra), (b, rb) = make(), make()
    wait_for(lambda: len(leaders(a, b)) == 1, message="a leader")
    old, follower = (a, b) if a.is_leader else (b, a)
    old_rec = ra if old is a else rb
    with frozen_backend(cluster):
        began = time.monotonic()
        assert old_rec.lost.wait(old.deadline_s + 3), "the leader kept leading on a frozen server"
        assert not old.is_leader and time.monotonic() - began < old.deadline_s + 3
        # The frozen session still holds the lock: the follower names nobody, and says who is stale.
        wait_for(lambda: follower.stale_leader(), timeout=old.stale_s + 3, message="the stale marker")
        assert follower.leader() is None and follower.stale_leader()["id"] == old.leader_id
        stopping = time.monotonic()
        old.stop()
        assert time.monotonic() - stopping < old.deadline_s + 3, "stop() hung on the frozen server"
        assert old_rec.losses == 1
    # Once the server answers again, the stopped leader's thread closes its session: the other leads.
    wait_for(lambda: follower.is_leader, timeout=10, message="the follower to lead after the thaw")


class FakeMonitor:
    """What LiveRelay needs of a monitor: its services, restore/snapshot and the live views."""

    def __init__(self) -> None:
        self.settings = SimpleNamespace(services=[SimpleNamespace(name="web")])
        self.restores = 0
        self.published: list[dict] = []
        self.live = SimpleNamespace(publish_result=self.published.append, publish_sweep=lambda *a: None)

    def restore(self) -> None:
        self.restores += 1

    def snapshot(self) -> dict:
        return {"services": []}


def test_a_notification_that_cannot_be_applied_does_not_kill_the_listener(pg_cluster):
    cluster = pg_cluster()
    monitor, bus = FakeMonitor(), EventBus()
    relay = LiveRelay(cluster.dsn(), monitor, bus, SimpleNamespace(leader_id="me", is_leader=False))
    relay.start()
    try:
        wait_for(lambda: monitor.restores >= 1, message="the listener to listen")
        bad = {"from": "other", "n": 1, "m": {"type": "result", "service": {"status": "down"}}}  # no name
        good = {"from": "other", "n": 2, "m": {"type": "result", "service": {"name": "web", "status": "up"}}}
        with cluster.admin(autocommit=True) as admin:
            for note in (bad, good):
                admin.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps(note)))
        wait_for(lambda: monitor.published, message="the next notification applied")
        assert monitor.published == [good["m"]["service"]] and monitor.restores >= 2  # the bad one cost a resync
        assert all(thread.is_alive() for thread in relay._threads)
    finally:
        relay.stop()
        bus.close()


def test_without_postgresql_the_one_process_always_leads():
    sole = SoleLeader()
    sole.start()
    assert sole.is_leader and sole.role() == "single" and sole.leader()["is_me"] is True
    sole.stop()
