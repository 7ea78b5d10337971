"""The engine with fake actions and probes: conflicts, limits, maintenance, events, the state file."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from config import settings_from_dict
from ops.events import EventBus
from ops.probes import ProbeResult
from ops.recovery import ActionResult, RecoveryAction, RecoveryConflict, RecoveryEngine, UnknownService
from ops.recovery_log import RecoveryLog
from ops.status import ServiceState
from tests.support import wait_for


class GateAction(RecoveryAction):
    """Blocks until released; counts its runs."""

    kind = "command"

    def __init__(self, outcome: str = "ok") -> None:
        super().__init__(5.0)
        self.outcome, self.runs = outcome, 0
        self.release = threading.Event()

    def run(self, ctx) -> ActionResult:
        self.runs += 1
        self.release.wait(5)
        return ActionResult(self.outcome, exit_code=0)


def make_engine(tmp_path, names=("a", "b"), healthy=True, wall=None, **policy):
    policy = {"verify_timeout_s": 0.3, "verify_interval_s": 0.05, "cooldown_s": 0, **policy}
    services = [{"name": n, "type": "tcp", "port": 1, "recovery": {"action": "demo"}} for n in names]
    settings = settings_from_dict({"services": services, "recovery": policy})
    actions = {n: GateAction() for n in names}
    ok = {"value": healthy}

    def probe_fn(service, ts, budget_s=None):
        return ProbeResult(service.name, ok["value"], 1.0, None, None if ok["value"] else "refused", ts)

    kwargs = {"wall": wall} if wall else {}
    engine = RecoveryEngine(
        settings, None, EventBus(), RecoveryLog(None), state_path=tmp_path / "state.json", actions=actions,
        probe_fn=probe_fn, **kwargs,
    )  # fmt: skip
    engine.start()
    engine.fake_actions, engine.probe_ok = actions, ok
    return engine


def latest(engine, name):
    return engine.log.recent(limit=1, service=name)[0]


def finished(engine, name):
    return wait_for(lambda: latest(engine, name)["outcome"] != "running" and latest(engine, name), 5)


def failed_check(engine, name):
    state = ServiceState(status="down", consecutive_failures=1)
    engine.on_result(name, state, ProbeResult(name, False, None, None, "refused", datetime.now(UTC)))


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(tmp_path)
    yield engine
    for action in engine.fake_actions.values():
        action.release.set()
    engine.stop()


def test_two_simultaneous_manual_requests_start_one_recovery(engine):
    barrier, answers = threading.Barrier(2), []

    def ask():
        barrier.wait()
        try:
            answers.append(engine.request_manual("a")["id"])
        except RecoveryConflict as exc:
            answers.append(exc.reason)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(answers) == 2 and answers.count("already_running") == 1
    engine.fake_actions["a"].release.set()
    assert finished(engine, "a")["outcome"] == "recovered"
    assert engine.fake_actions["a"].runs == 1


def test_global_concurrency_limit_refuses_a_second_service(tmp_path):
    engine = make_engine(tmp_path, max_concurrent=1)
    try:
        engine.request_manual("a")
        with pytest.raises(RecoveryConflict) as info:
            engine.request_manual("b")
        assert info.value.reason == "concurrency"
    finally:
        engine.fake_actions["a"].release.set()
        engine.stop()


def test_unknown_service_and_no_action(tmp_path):
    engine = make_engine(tmp_path)
    engine._actions["b"] = None  # as for action "none"
    try:
        with pytest.raises(UnknownService):
            engine.request_manual("zzz")
        with pytest.raises(RecoveryConflict, match="no recovery action"):
            engine.request_manual("b")
    finally:
        engine.stop()


def test_each_attempt_and_outcome_is_published_as_a_recovery_event(engine):
    subscription = engine.bus.subscribe()
    entry = engine.request_manual("a")
    engine.fake_actions["a"].release.set()
    events = [json.loads(subscription.get(timeout=5)) for _ in range(2)]
    assert [e["type"] for e in events] == ["recovery", "recovery"]
    assert [e["entry"]["outcome"] for e in events] == ["running", "recovered"]
    assert {e["entry"]["id"] for e in events} == {entry["id"]}
    done = events[1]["entry"]
    assert done["trigger"] == "manual" and done["attempt"] == 1 and done["time_to_healthy_s"] >= 0
    assert set(done) >= {"id", "time", "service", "trigger", "action", "attempt", "outcome", "duration_s"}


def test_auto_recovery_after_restart_failures_then_circuit_after_max_attempts(tmp_path):
    engine = make_engine(tmp_path, healthy=False, max_attempts=2)
    action = engine.fake_actions["a"]
    action.release.set()
    try:
        for expected_runs in (1, 2):
            for _ in range(3):  # thresholds.restart_failures defaults to 3
                failed_check(engine, "a")
            wait_for(lambda n=expected_runs: action.runs == n and not engine.status("a")["recovering"], 5)
        assert engine.status("a")["needs_attention"] and engine.view_extra("a")["needs_attention"]
        for _ in range(6):
            failed_check(engine, "a")
        assert action.runs == 2  # circuit open: no more restarts
        outcomes = [e["outcome"] for e in engine.log.recent(service="a")]
        assert outcomes.count("still_down") == 2
        with pytest.raises(RecoveryConflict) as info:
            engine.request_manual("a")
        assert info.value.reason == "circuit_open"
        assert engine.request_manual("a", force=True)["forced"] is True
        assert finished(engine, "a")["outcome"] == "still_down"
        assert not engine.reset("a")["needs_attention"]
    finally:
        engine.stop()


def test_maintenance_pauses_auto_recovery_and_marks_checks(tmp_path):
    clock = {"now": 1_000_000.0}
    engine = make_engine(tmp_path, wall=lambda: clock["now"])
    try:
        status = engine.set_maintenance("a", True, duration_s=60)
        assert status["maintenance"] and status["maintenance_until"].startswith("1970-01-12")
        assert engine.status_override("a") == "maintenance" and engine.status_override("b") is None
        for _ in range(5):
            failed_check(engine, "a")
        assert engine.fake_actions["a"].runs == 0 and engine.log.recent() == []
        clock["now"] += 61
        assert engine.status_override("a") is None and not engine.view_extra("a")["maintenance"]
        with pytest.raises(ValueError):
            engine.set_maintenance("a", True, duration_s=-1)
    finally:
        engine.stop()


def test_maintenance_and_open_circuits_survive_a_restart(tmp_path):
    first = make_engine(tmp_path)
    first.set_maintenance("a", True)
    first._states["b"].circuit_open = True
    first.stop()
    second = make_engine(tmp_path)
    try:
        assert second.status("a")["maintenance"] and second.status("a")["maintenance_until"] is None
        assert second.status("b")["needs_attention"]
    finally:
        second.stop()


def test_auto_switch_off_logs_one_skip_per_incident(tmp_path):
    engine = make_engine(tmp_path)
    try:
        engine.set_auto(False, "a")
        for _ in range(8):
            failed_check(engine, "a")
        entries = engine.log.recent(service="a")
        assert [(e["outcome"], e["reason_code"]) for e in entries] == [("skipped", "auto_off")]
        assert engine.fake_actions["a"].runs == 0
        assert engine.set_auto(False)["auto"] is False
    finally:
        engine.stop()
