"""The recovery policy's pure rules: threshold, incidents, backoff, attempt cap, circuit, maintenance."""

from __future__ import annotations

import pytest

from ops.recovery import policy as pol

LIMITS = pol.Limits(threshold=3, max_attempts=3, window_s=3600, cooldown_s=30, backoff_max_s=300, healthy_reset_s=600)


def fail(state: pol.RecoveryState, now: float = 0.0, limits: pol.Limits = LIMITS, auto: bool = True):
    pol.on_failure(state, in_maintenance=state.maintenance)
    return pol.auto_decision(state, limits, now, auto_on=auto, has_action=True)[0]


def attempt(state: pol.RecoveryState, now: float, recovered: bool, limits: pol.Limits = LIMITS) -> str | None:
    pol.begin_attempt(state, now, f"id-{now}", limits)
    return pol.end_attempt(state, now, 1000.0 + now, recovered, limits)


def test_backoff_doubles_from_the_cooldown_up_to_the_cap():
    assert [pol.backoff_delay(LIMITS, level) for level in range(7)] == [30, 60, 120, 240, 300, 300, 300]
    assert pol.backoff_delay(LIMITS, 10_000) == 300  # no overflow however long the outage


def test_an_attempt_needs_restart_failures_consecutive_failures():
    state = pol.RecoveryState()
    assert [fail(state), fail(state)] == [pol.WAIT, pol.WAIT]
    assert fail(state) == pol.GO


def test_a_flapping_service_failing_one_check_in_three_never_triggers():
    state = pol.RecoveryState()
    for _ in range(30):
        assert fail(state) == pol.WAIT
        for _ in range(2):
            pol.on_success(state, 0.0, healthy=True, limits=LIMITS)


def test_the_counter_resets_after_an_attempt_so_one_outage_is_one_incident():
    state = pol.RecoveryState()
    for _ in range(3):
        fail(state)
    attempt(state, now=0.0, recovered=False)
    assert state.failures == 0
    # The backoff has long passed, but three new failures are still needed for the next attempt.
    assert [fail(state, now=1000), fail(state, now=1000)] == [pol.WAIT, pol.WAIT]
    assert fail(state, now=1000) == pol.GO


def test_backoff_holds_the_next_attempt_back_and_grows():
    state = pol.RecoveryState()
    attempt(state, now=0.0, recovered=True)
    for _ in range(3):
        verdict = fail(state, now=10.0)
    assert verdict == pol.SKIP  # 10 s after the first attempt: the 30 s cooldown holds
    assert fail(state, now=31.0) == pol.GO
    attempt(state, now=31.0, recovered=True)
    assert state.not_before == pytest.approx(31.0 + 60.0)


def test_the_circuit_opens_after_max_attempts_that_did_not_recover():
    state = pol.RecoveryState()
    opened = [attempt(state, now=t, recovered=False) for t in (0.0, 100.0, 400.0)]
    assert opened == [None, None, pol.CIRCUIT_OPENED]
    assert state.circuit_open and "3 attempts" in state.circuit_reason
    for _ in range(3):
        verdict = fail(state, now=10_000.0)
    assert verdict == pol.SKIP  # no more automatic attempts while it is open


def test_successful_recoveries_never_open_the_circuit_they_flag_flapping_and_recovery_goes_on():
    state = pol.RecoveryState()
    events = [attempt(state, now=t, recovered=True) for t in (0.0, 100.0, 400.0)]
    assert events == [None, None, pol.FLAPPING] and state.flapping and not state.circuit_open
    for _ in range(3):
        verdict = fail(state, now=1000.0)
    assert verdict == pol.GO  # the fourth outage is still recovered: only the backoff grows
    assert attempt(state, now=1000.0, recovered=True) is None  # flapping already said once
    assert state.not_before == pytest.approx(1000.0 + 240.0)


def test_a_mix_opens_the_circuit_only_at_max_attempts_that_failed():
    state = pol.RecoveryState()
    for t, recovered in ((0.0, False), (1.0, True), (2.0, False), (3.0, True)):
        assert attempt(state, now=t, recovered=recovered) is None
    assert not state.circuit_open
    assert attempt(state, now=4.0, recovered=False) == pol.CIRCUIT_OPENED


def test_a_long_healthy_run_forgets_flapping():
    state = pol.RecoveryState()
    for t in (0.0, 1.0, 2.0):
        attempt(state, now=t, recovered=True)
    pol.on_success(state, 10.0, healthy=True, limits=LIMITS)
    pol.on_success(state, 10.0 + 600.0, healthy=True, limits=LIMITS)
    assert not state.flapping and not state.recovered and state.backoff_level == 0


def test_attempts_outside_the_window_no_longer_count():
    limits = pol.Limits(3, 2, window_s=100, cooldown_s=0, backoff_max_s=0, healthy_reset_s=600)
    state = pol.RecoveryState()
    attempt(state, now=0.0, recovered=False, limits=limits)
    assert pol.prune(state, 50.0, limits.window_s) == 1
    assert pol.prune(state, 100.0, limits.window_s) == 0


def test_healthy_again_closes_the_circuit_and_a_long_healthy_run_resets_the_backoff():
    state = pol.RecoveryState()
    for t in (0.0, 1.0, 2.0):
        attempt(state, now=t, recovered=False)
    assert state.circuit_open
    assert pol.on_success(state, 10.0, healthy=True, limits=LIMITS) is True
    assert not state.circuit_open and state.backoff_level == 3 and len(state.attempts) == 3
    pol.on_success(state, 10.0 + 600.0, healthy=True, limits=LIMITS)
    assert state.backoff_level == 0 and not state.attempts


def test_a_passing_check_of_a_service_still_marked_down_does_not_close_the_circuit():
    state = pol.RecoveryState()
    pol.open_circuit(state, 0.0, "test")
    assert pol.on_success(state, 1.0, healthy=False, limits=LIMITS) is False
    assert state.circuit_open


def test_operator_reset_forgets_circuit_attempts_and_backoff():
    state = pol.RecoveryState()
    for t in (0.0, 1.0, 2.0):
        attempt(state, now=t, recovered=False)
    pol.reset(state)
    assert not state.circuit_open and not state.attempts and state.backoff_level == 0
    for _ in range(3):
        verdict = fail(state, now=3.0)
    assert verdict == pol.GO


def test_maintenance_neither_counts_failures_nor_triggers_and_expires_by_itself():
    state = pol.RecoveryState(maintenance=True, maintenance_until=500.0)
    for _ in range(5):
        assert fail(state) == pol.WAIT
    assert state.failures == 0
    assert pol.maintenance_active(state, 499.0)
    assert not pol.maintenance_active(state, 500.0) and state.maintenance_until is None


def test_auto_off_skips_with_a_reason_and_a_running_attempt_waits():
    state = pol.RecoveryState()
    for _ in range(2):
        fail(state, auto=False)
    assert fail(state, auto=False) == pol.SKIP
    state.running_id = "x"
    assert fail(state) == pol.WAIT


def test_recovery_commands_never_see_secrets_from_our_environment():
    from ops.recovery.command import child_environment

    env = child_environment(
        {
            "PATH": "/bin",
            "DASHBOARD_API_KEY": "k",
            "GITHUB_TOKEN": "t",
            "DB_PASSWORD": "p",
            "DOCKER_HOST": "tcp://proxy:2375",
            "MY_SECRET_THING": "s",
            "DATABASE_URL": "postgresql://postgres:hunter2@postgres:5432/bytebotdb",
            "BYTEBOT_DB": "postgres://app:hunter2@db/app",  # a dsn_env of any name: caught by its value
            "HOME_PAGE": "https://example.org/a:b",  # no password in it: kept
        }
    )
    assert env == {"PATH": "/bin", "DOCKER_HOST": "tcp://proxy:2375", "HOME_PAGE": "https://example.org/a:b"}


def test_an_interrupted_attempt_counts_neither_way():
    state = pol.RecoveryState()
    for t in (0.0, 1.0):
        attempt(state, now=t, recovered=False)
    pol.begin_attempt(state, 2.0, "id-stop", LIMITS)
    assert pol.end_attempt(state, 2.0, 1002.0, False, LIMITS, interrupted=True) is None
    assert not state.circuit_open and len(state.failed) == 2 and state.running_id is None
