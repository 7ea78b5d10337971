"""The recovery state as the shared table holds it: wall times across processes with different clocks."""

from __future__ import annotations

import threading

from ops.recovery import policy as pol
from ops.recovery.shared import apply_counters, apply_settings, counters_of, resets_of
from ops.recovery.sync import StateSync


def test_counters_cross_to_a_process_with_another_monotonic_clock():
    st = pol.RecoveryState()
    st.attempts.extend([100.0, 160.0])
    st.failed.append(100.0)
    st.recovered.append(160.0)
    st.backoff_level, st.not_before, st.flapping = 2, 230.0, True
    pol.open_circuit(st, 5_000.0, "needs attention")
    data = counters_of(st, now=200.0, wall=5_000.0)  # this process: clock 200 at wall 5000
    assert data["attempts"] == [4_900.0, 4_960.0] and data["not_before"] == 5_030.0

    other = pol.RecoveryState()
    apply_counters(other, data, now=9.0, wall=5_010.0)  # another process, 10 s later, clock 9
    assert list(other.attempts) == [-101.0, -41.0] and other.not_before == 29.0  # 20 s of backoff left
    assert other.backoff_level == 2 and other.flapping and other.circuit_open
    assert other.circuit_reason == "needs attention" and other.skip_reason == "circuit_open"


def test_empty_or_damaged_counters_mean_a_fresh_start():
    st = pol.RecoveryState()
    st.attempts.append(1.0)
    pol.open_circuit(st, 1.0, "x")
    apply_counters(st, {"attempts": "nope", "backoff_level": -3, "not_before": True}, now=50.0, wall=1_000.0)
    assert not st.attempts and st.backoff_level == 0 and st.not_before == 0.0 and not st.circuit_open


def test_a_maintenance_window_set_elsewhere_restarts_counting_and_an_ended_one_is_off():
    st = pol.RecoveryState(failures=4, skip_reason="auto_off")
    assert apply_settings(st, {"maintenance": True, "maintenance_until": 2_000.0, "auto": False}, wall=1_000.0)
    assert st.maintenance and st.maintenance_until == 2_000.0 and st.auto is False
    assert st.failures == 0 and st.skip_reason is None
    assert not apply_settings(st, {"maintenance": True, "maintenance_until": 2_000.0, "auto": False}, wall=1_500.0)
    st.failures = 2
    assert apply_settings(st, {"maintenance": True, "maintenance_until": 2_000.0}, wall=2_000.0)
    assert not st.maintenance and st.auto is None and st.failures == 0


def test_resets_are_a_non_negative_count():
    assert resets_of({"resets": 3}) == 3 and resets_of({"resets": True}) == 0 and resets_of({}) == 0


def test_the_attempt_in_flight_crosses_with_its_deadline_and_a_leader_keeps_its_own():
    st = pol.RecoveryState()
    pol.begin_attempt(st, 200.0, "r1", pol.Limits(1, 3, 3600, 30, 300, 60), until=230.0)
    data = counters_of(st, now=200.0, wall=5_000.0)
    assert data["running_id"] == "r1" and data["running_until"] == 5_030.0

    other = pol.RecoveryState()
    apply_counters(other, data, now=9.0, wall=5_010.0)
    assert other.running_id == "r1" and other.running_until == 29.0  # 20 s left
    apply_counters(other, {}, now=9.0, wall=5_010.0, running=False)  # a reset read by the leader
    assert other.running_id == "r1"
    apply_counters(other, {"running_id": "r2"}, now=9.0, wall=5_010.0)  # no deadline: already passed
    assert other.running_id == "r2" and other.running_until == 9.0
    pol.end_attempt(other, 10.0, 5_011.0, False, pol.Limits(1, 3, 3600, 30, 300, 60), interrupted=True)
    assert other.running_id is None and other.running_until is None


class Rows:
    """A store whose rows are set by hand (versions commit out of order)."""

    def __init__(self) -> None:
        self.rows_now: list = []

    def rows(self):
        return list(self.rows_now)


def test_a_write_that_commits_with_a_lower_version_after_a_higher_one_is_still_applied():
    states = {"a": pol.RecoveryState(), "b": pol.RecoveryState()}
    store = Rows()
    sync = StateSync(store, states, threading.Lock(), clock=lambda: 0.0, wall=lambda: 1_000.0)
    store.rows_now = [("b", 11, {"maintenance": True}, {})]
    assert sync.refresh(take_counters=True) and states["b"].maintenance
    # Version 10 (taken earlier) commits later, on another row and then on the same one.
    store.rows_now = [("a", 10, {"maintenance": True}, {}), ("b", 11, {"maintenance": True}, {})]
    assert sync.refresh(take_counters=True) and states["a"].maintenance
    store.rows_now = [("a", 10, {"maintenance": True}, {}), ("b", 9, {}, {})]
    assert sync.refresh(take_counters=True) and not states["b"].maintenance
    assert sync.refresh(take_counters=True) is False  # nothing new
