"""Two engines over one in-memory shared state: a follower sees the leader's attempt, a new leader
waits out the old one's deadline and never reruns it, a lost leadership is not a failed attempt."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from config import settings_from_dict
from ops.events import EventBus
from ops.probes import ProbeResult
from ops.recovery import ActionResult, RecoveryAction, RecoveryEngine
from ops.recovery.worker import ACTION_GRACE_S
from ops.recovery_log import RecoveryLog
from ops.status import ServiceState
from tests.support import wait_for

ACTION_TIMEOUT_S, VERIFY_TIMEOUT_S = 5.0, 0.3
DEADLINE_S = ACTION_TIMEOUT_S + ACTION_GRACE_S + VERIFY_TIMEOUT_S


class MemoryState:
    """The recovery_state table's contract (ops/history/postgres_recovery_state.py) in a dict."""

    def __init__(self) -> None:
        self.table: dict[str, list] = {}  # service -> [version, settings, counters]
        self.seq = 0
        self.lock = threading.Lock()

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def rows(self):
        with self.lock:
            return [(s, v, dict(st), dict(c)) for s, (v, st, c) in sorted(self.table.items())]

    def set_settings(self, service: str, changes: dict, reset: bool = False) -> bool:
        with self.lock:
            _, settings, counters = self.table.get(service, [0, {}, {}])
            settings = {**settings, **changes, "resets": settings.get("resets", 0) + int(reset)}
            if reset:
                counters = {k: v for k, v in counters.items() if k in ("running_id", "running_until")}
            self.table[service] = [self._next(), settings, counters]
            return True

    def write_counters(self, service: str, counters: dict, resets: int) -> bool:
        with self.lock:
            _, settings, _ = self.table.get(service, [0, {}, {}])
            if settings.get("resets", 0) != resets:
                return False
            self.table[service] = [self._next(), settings, dict(counters)]
            return True


class GateAction(RecoveryAction):
    """Blocks until released; counts its runs; says `outcome`."""

    kind = "command"

    def __init__(self, outcome: str = "failed") -> None:
        super().__init__(ACTION_TIMEOUT_S)
        self.outcome, self.runs = outcome, 0
        self.release = threading.Event()

    def run(self, ctx) -> ActionResult:
        self.runs += 1
        self.release.wait(5)
        return ActionResult(self.outcome, exit_code=1)


def make(store, log, clock, leads: dict, **policy):
    policy = {"verify_timeout_s": VERIFY_TIMEOUT_S, "verify_interval_s": 0.05, "cooldown_s": 10, **policy}
    service = {"name": "a", "type": "tcp", "port": 1, "recovery": {"action": "demo", "timeout_s": ACTION_TIMEOUT_S}}
    settings = settings_from_dict({"services": [service], "recovery": policy})
    action = GateAction()

    def probe_fn(service, ts, budget_s=None):
        return ProbeResult(service.name, False, None, None, "refused", ts)

    engine = RecoveryEngine(
        settings, None, EventBus(), log, actions={"a": action}, probe_fn=probe_fn, clock=lambda: clock["now"],
        shared=store,
    )  # fmt: skip
    engine.leading = lambda: leads["v"]
    engine.start()
    engine.action = action
    return engine


def failed_check(engine) -> None:
    state = ServiceState(status="down", consecutive_failures=1)
    engine.on_result("a", state, ProbeResult("a", False, None, None, "refused", datetime.now(UTC)))


def entry(log, entry_id) -> dict:
    return next(e for e in log.recent(service="a") if e["id"] == entry_id)


def test_a_new_leader_keeps_the_old_attempt_busy_until_its_deadline_then_interrupts_it():
    store, log, clock = MemoryState(), RecoveryLog(None), {"now": 100.0}
    a_leads, b_leads = {"v": True}, {"v": False}
    a, b = make(store, log, clock, a_leads), make(store, log, clock, b_leads)
    try:
        started = a.request_manual("a")
        wait_for(lambda: a.action.runs == 1, 5)  # the old leader's action is running (its worker thread started it)
        # The follower shows the leader's attempt (finding 8).
        status = b.status("a")
        assert status["recovering"] and status["current_id"] == started["id"] and b.overview()["running"] == 1

        a_leads["v"], b_leads["v"] = False, True  # a is killed: its action runs on, unseen
        b.take_over()
        b.interrupt_orphans("the leading dashboard was lost during the attempt")
        for _ in range(5):
            failed_check(b)
        assert b.action.runs == 0 and entry(log, started["id"])["outcome"] == "running"
        assert b.status("a")["recovering"] and b.status("a")["current_id"] == started["id"]

        clock["now"] += DEADLINE_S + 0.1  # past the old attempt's deadline
        b._settle_adopted()
        assert entry(log, started["id"])["outcome"] == "interrupted"
        status = b.status("a")
        assert not status["recovering"] and status["failed_attempts"] == 0 and status["recovery_attempts"] == 1
        for _ in range(3):  # thresholds.restart_failures defaults to 3: a new incident, the second attempt
            failed_check(b)
        wait_for(lambda: b.action.runs == 1, 5)
        assert b.status("a")["recovery_attempts"] == 2 and a.action.runs == 1
    finally:
        for engine in (a, b):
            engine.action.release.set()
            engine.stop()


def test_an_old_attempt_recorded_as_ended_frees_the_service_before_its_deadline():
    store, log, clock = MemoryState(), RecoveryLog(None), {"now": 100.0}
    a_leads, b_leads = {"v": True}, {"v": False}
    a, b = make(store, log, clock, a_leads), make(store, log, clock, b_leads)
    try:
        started = a.request_manual("a")
        wait_for(lambda: a.action.runs == 1, 5)
        b.status("a")
        a_leads["v"], b_leads["v"] = False, True  # a brief loss: a is alive, cancels and records the end
        b.take_over()
        b.interrupt_orphans()
        assert b.status("a")["recovering"]
        a.cancel_running()
        a.action.release.set()
        wait_for(lambda: entry(log, started["id"])["outcome"] != "running", 5)
        b._settle_adopted()
        assert not b.status("a")["recovering"] and entry(log, started["id"])["outcome"] == "interrupted"
    finally:
        for engine in (a, b):
            engine.action.release.set()
            engine.stop()


def test_a_brief_loss_of_leadership_is_not_a_failed_attempt():
    store, log, clock = MemoryState(), RecoveryLog(None), {"now": 100.0}
    leads = {"v": True}
    engine = make(store, log, clock, leads)
    try:
        started = engine.request_manual("a")
        wait_for(lambda: engine.action.runs == 1, 5)
        leads["v"] = False
        engine.cancel_running()
        leads["v"] = True  # regained before the attempt ended: still cut off
        engine.action.release.set()
        wait_for(lambda: entry(log, started["id"])["outcome"] != "running", 5)
        assert entry(log, started["id"])["outcome"] == "interrupted"
        status = engine.status("a")
        assert status["failed_attempts"] == 0 and status["next_backoff_s"] == 10 and status["next_auto_after"] is None
        assert store.table["a"][2]["failed"] == [] and store.table["a"][2]["backoff_level"] == 0
    finally:
        engine.action.release.set()
        engine.stop()
