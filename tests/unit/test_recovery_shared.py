"""The recovery state as the shared table holds it: wall times across processes with different clocks."""

from __future__ import annotations

from ops.recovery import policy as pol
from ops.recovery.shared import apply_counters, apply_settings, counters_of, resets_of


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
