"""The recovery engine: listens to check results, decides (policy.py), runs actions off-thread, verifies.

Threads: `on_result` runs on the monitor's probe threads and only updates counters and maybe starts
a worker; `request_manual` runs on a request thread and only reserves the service and starts a
worker. Actions and verification probes only ever run on those workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from config.settings import ServiceSettings, Settings
from ops.events import EventBus
from ops.probes import Prober, ProbeResult
from ops.recovery import policy as pol
from ops.recovery import takeover
from ops.recovery.actions import ActionContext, RecoveryAction
from ops.recovery.records import (
    ACTION_FAILED,
    INTERRUPTED,
    RECOVERED,
    STILL_DOWN,
    finished_entry,
    load_state,
    new_entry,
    save_state,
    skipped_entry,
)
from ops.recovery.registry import build_action
from ops.recovery.sync import GLOBAL, StateSync
from ops.recovery.views import status_fields, view_fields
from ops.recovery.worker import ACTION_GRACE_S, act_and_verify
from ops.recovery_log import RecoveryLog
from ops.status import HEALTHY, ServiceState

log = logging.getLogger(__name__)

MAINTENANCE = "maintenance"
STOP_JOIN_S = 5.0


class RecoveryConflict(Exception):
    """A recovery that cannot start now (HTTP 409); `reason` is a short code."""

    def __init__(self, reason: str, message: str, detail: dict | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.detail = reason, message, detail or {}


class UnknownService(KeyError):
    """No service of that name is configured (HTTP 404)."""


class RecoveryEngine:
    """Every recovery rule in one place; the views only call request_manual/set_maintenance/reset/status."""

    def __init__(
        self,
        settings: Settings,
        monitor,
        bus: EventBus,
        recovery_log: RecoveryLog,
        *,
        demo=None,
        state_path: str | Path | None = None,
        actions: dict[str, RecoveryAction | None] | None = None,
        prober: Prober | None = None,
        probe_fn=None,
        clock=time.monotonic,
        wall=time.time,
        shared=None,
    ) -> None:
        self.settings, self.policy = settings, settings.recovery
        self.monitor, self.bus, self.log = monitor, bus, recovery_log
        self.state_path = Path(state_path) if state_path else None
        self.auto_enabled = self.policy.enabled
        self._services = {s.name: s for s in settings.services}
        self._states = {name: pol.RecoveryState() for name in self._services}
        prober = prober or Prober()
        self._actions = {s.name: build_action(s, demo, watchdog=prober.watchdog) for s in settings.services}
        self._actions.update(actions or {})
        # Verification runs the service's own check (postgres: a real query), with a hard deadline.
        self._check, self._clock, self._wall = probe_fn or prober.check, clock, wall
        self._lock = threading.Lock()
        # service -> (entry id, leadership term) of the attempt this dashboard runs; others are adopted
        self._mine: dict[str, tuple[str, int]] = {}
        self._term = 0  # bumped when leadership is lost: an attempt begun in an earlier term was cut off
        self._workers: dict[str, threading.Thread] = {}
        self._stopping = threading.Event()
        # Several dashboards over one PostgreSQL: the state lives in its table (ops/recovery/sync.py),
        # not in state_path; any dashboard changes settings there, the leader reads them before acting.
        self._sync = None if shared is None else StateSync(shared, self._states, self._lock, clock, wall)
        self._poller: threading.Thread | None = None
        # The leader gate (ops/leader.py): only the leader acts; a follower names the leader instead.
        self.leading: Callable[[], bool] = lambda: True
        self.who_leads: Callable[[], dict | None] = lambda: None

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Restore maintenance windows and open circuits saved by the previous run (or shared)."""
        if self._sync is not None:
            self._sync.reload()
            takeover.apply_global(self)
            self._poller = threading.Thread(target=takeover.poll, args=(self,), name="recovery-state", daemon=True)
            self._poller.start()
        else:
            with self._lock:
                load_state(self.state_path, self._states)
        if self.leading():  # a follower leaves the leader's attempts alone; it marks them when it leads
            self.interrupt_orphans()

    # -- leadership hand-over (ops/recovery/takeover.py) ----------------------------------------
    def interrupt_orphans(self, reason: str = "the dashboard stopped during the attempt") -> None:
        """Mark attempts left "running" interrupted; adopted ones end when settled (see takeover.py)."""
        takeover.interrupt_orphans(self, reason)

    def _settle_adopted(self) -> None:
        takeover.settle_adopted(self)

    def take_over(self) -> None:
        """Leadership gained: the counters as the last leader left them (attempt caps hold across leaders)."""
        takeover.take_over(self)

    def cancel_running(self) -> None:
        """Leadership lost: stop the actions under way (their entries end interrupted, see _attempt)."""
        with self._lock:
            self._term += 1
            names = list(self._workers)
        for name in names:
            action = self._actions.get(name)
            if action is not None:
                action.cancel()

    def stop(self) -> None:
        """No new attempts; cancel running actions, let workers finish, save the state."""
        self._stopping.set()
        with self._lock:
            workers = dict(self._workers)
        for name in workers:
            action = self._actions.get(name)
            if action is not None:
                action.cancel()
        deadline = time.monotonic() + STOP_JOIN_S
        for thread in workers.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._poller is not None:
            self._poller.join(STOP_JOIN_S)
        self._save()

    # -- the listener: runs on a probe thread, so it only counts and maybe starts a worker ---------
    def on_result(self, name: str, state: ServiceState, result: ProbeResult) -> None:
        if not self.leading():
            return
        service = self._services[name]
        limits = self.limits(service)
        takeover.before_deciding(self, name, result, service)
        now, wall = self._clock(), self._wall()
        skipped = entry = None
        with self._lock:
            st = self._states[name]
            in_maintenance = pol.maintenance_active(st, wall)
            if result.ok:
                before = (len(st.attempts), st.backoff_level, st.flapping)
                closed = pol.on_success(st, now, state.status in HEALTHY, limits)
                forgot = before != (len(st.attempts), st.backoff_level, st.flapping)
            else:
                pol.on_failure(st, in_maintenance)
                verdict, code, text = pol.auto_decision(st, limits, now, self._auto_on(service, st), name in self)
                if verdict == pol.GO and self._stopping.is_set():
                    verdict = pol.WAIT
                elif verdict == pol.GO and self._in_flight() >= self.policy.max_concurrent:
                    verdict, code, text = pol.SKIP, "concurrency", "global limit of concurrent recoveries reached"
                if verdict == pol.OPEN:
                    pol.open_circuit(st, wall, text)
                if verdict == pol.OPEN or (verdict == pol.SKIP and st.skip_reason != code):
                    st.skip_reason = code if verdict == pol.SKIP else st.skip_reason
                    skipped = self._skip_entry(service, st, code, text)
                elif verdict == pol.GO:
                    entry = self._begin(service, st, "auto", now, wall)
        if result.ok:
            if closed:
                log.info("%s is healthy again: circuit closed", name)
                self._save()
            if closed or forgot:
                takeover.share(self, name)
            return
        if skipped is not None:
            log.info("automatic recovery of %s skipped: %s", name, skipped["reason"])
            self._publish(skipped, new=True)
            if skipped["reason_code"] == "attempt_cap":
                self._save()
                takeover.share(self, name)
        if entry is not None:
            takeover.share(self, name)
            self._launch(service, entry)

    # -- the interface the views use -----------------------------------------------------------
    def request_manual(self, name: str, force: bool = False) -> dict:
        """Start a recovery now on a background thread; returns its log entry (outcome "running").

        Raises RecoveryConflict if one is running, the circuit is open (unless force), the global
        limit is reached, or there is no action; UnknownService for a name not configured.
        """
        service = self._service(name)
        if self._sync is not None and self.leading():
            self._sync.refresh(take_counters=False)  # a reset or maintenance set on another dashboard
        with self._lock:
            st = self._states[name]
            self._check_manual(st, name, force)
            entry = self._begin(service, st, "manual", self._clock(), self._wall(), forced=force and st.circuit_open)
        takeover.share(self, name)
        self._launch(service, entry)
        return dict(entry)

    def _check_manual(self, st: pol.RecoveryState, name: str, force: bool) -> None:
        if self._stopping.is_set():
            raise RecoveryConflict("stopping", "the dashboard is stopping")
        if not self.leading():
            leader = self.who_leads()
            text = f"this dashboard follows; the leader ({leader['id'] if leader else 'none right now'}) recovers"
            raise RecoveryConflict("not_leader", text, {"leader": leader})
        if st.running_id is not None:
            raise RecoveryConflict("already_running", "a recovery is already running", {"id": st.running_id})
        if st.circuit_open and not force:
            detail = {"circuit_reason": st.circuit_reason}
            raise RecoveryConflict("circuit_open", "circuit open: send force=true to try anyway", detail)
        if name not in self:
            raise RecoveryConflict("no_action", "no recovery action is configured for this service")
        if self._in_flight() >= self.policy.max_concurrent:
            detail = {"max_concurrent": self.policy.max_concurrent}
            raise RecoveryConflict("concurrency", "too many recoveries running; try again shortly", detail)

    def set_maintenance(self, name: str, enabled: bool, duration_s: float | None = None) -> dict:
        """Maintenance on (optionally for duration_s) or off: no automatic recovery, no uptime counted."""
        self._service(name)
        if duration_s is not None and not duration_s > 0:
            raise ValueError("duration_s must be a positive number of seconds")
        if self._sync is not None:
            until = self._wall() + duration_s if enabled and duration_s else None
            self._set_shared(name, {"maintenance": enabled, "maintenance_until": until})
            log.info("%s: maintenance %s (shared)", name, "on" if enabled else "off")
            return self._changed(name)
        with self._lock:
            st = self._states[name]
            st.maintenance = enabled
            st.maintenance_until = self._wall() + duration_s if enabled and duration_s else None
            st.failures = 0  # the outage before or during maintenance is not the next incident
            st.skip_reason = None
        log.info("%s: maintenance %s", name, "on" if enabled else "off")
        return self._changed(name)

    def reset(self, name: str) -> dict:
        """Close the circuit and forget attempts and backoff (the operator fixed something)."""
        self._service(name)
        if self._sync is not None:
            self._set_shared(name, {}, reset=True)
            log.info("%s: recovery state reset by the operator (shared)", name)
            return self._changed(name)
        with self._lock:
            pol.reset(self._states[name])
        log.info("%s: recovery state reset by the operator", name)
        return self._changed(name)

    def set_auto(self, enabled: bool, name: str | None = None) -> dict:
        """Switch automatic recovery on/off for all or one service (runtime only, unless shared)."""
        if self._sync is not None:
            if name is not None:
                self._service(name)
            self._set_shared(GLOBAL if name is None else name, {"auto": enabled})
            takeover.apply_global(self)
            self._republish()
            return self.overview() if name is None else self.status(name)
        if name is None:
            self.auto_enabled = enabled
            self._republish()
            return self.overview()
        self._service(name)
        with self._lock:
            self._states[name].auto = enabled
        return self._changed(name)

    def status(self, name: str) -> dict:
        """The engine's view of one service (GET /api/services/<name>/recovery)."""
        self._service(name)
        takeover.read_shared(self)
        return self._status(name)

    def _status(self, name: str) -> dict:
        service = self._services[name]
        limits = self.limits(service)
        with self._lock:
            st = self._states[name]
            auto = self._auto_on(service, st) and name in self
            fields = status_fields(st, limits, self._clock(), self._wall(), auto, self._actions.get(name))
        return {"service": name, **fields}

    def overview(self) -> dict:
        """Global switches and every service's status (GET /api/recovery)."""
        takeover.read_shared(self)
        return {
            "auto": self.auto_enabled,
            "running": self._in_flight(locked=False),
            "max_concurrent": self.policy.max_concurrent,
            "services": {name: self._status(name) for name in self._services},
        }

    # -- hooks into the monitor ----------------------------------------------------------------
    def view_extra(self, name: str) -> dict:
        """What the snapshot's service view gains."""
        service = self._services[name]
        limits = self.limits(service)
        with self._lock:
            st = self._states[name]
            return view_fields(st, limits, self._clock(), self._wall(), self._auto_on(service, st) and name in self)

    def status_override(self, name: str) -> str | None:
        """Checks taken during maintenance are stored as "maintenance", so uptime leaves them out."""
        with self._lock:
            return MAINTENANCE if pol.maintenance_active(self._states[name], self._wall()) else None

    # -- helpers -------------------------------------------------------------------------------
    def limits(self, service: ServiceSettings) -> pol.Limits:
        p = self.policy
        threshold = service.recovery.restart_failures or self.settings.thresholds.restart_failures
        return pol.Limits(threshold, p.max_attempts, p.window_s, p.cooldown_s, p.backoff_max_s, p.healthy_reset_s)

    def __contains__(self, name: str) -> bool:
        """Whether `name` has a recovery action (action 'none' has not)."""
        return self._actions.get(name) is not None

    def _service(self, name: str) -> ServiceSettings:
        try:
            return self._services[name]
        except KeyError:
            raise UnknownService(name) from None

    def _auto_on(self, service: ServiceSettings, st: pol.RecoveryState) -> bool:
        return self.auto_enabled and (service.recovery.auto if st.auto is None else st.auto)

    def _skip_entry(self, service: ServiceSettings, st: pol.RecoveryState, code: str, text: str) -> dict:
        action = self._actions.get(service.name)
        kind = action.kind if action else "none"
        return skipped_entry(service.name, kind, len(st.attempts) + 1, self._wall(), code, text)

    def _in_flight(self, locked: bool = True) -> int:
        """Attempts running: ours, a last leader's not yet ended, or (on a follower) the leader's."""
        if not locked:
            with self._lock:
                return self._in_flight()
        return sum(st.running_id is not None for st in self._states.values())

    def _begin(self, service, st, trigger, now, wall, forced=False) -> dict:
        """Reserve the service and a concurrency slot (the caller holds the lock)."""
        action = self._actions[service.name]
        entry = new_entry(service.name, trigger, action.kind, 0, wall, forced)
        # Shared with the attempt: a new leader keeps the service busy until then (worker.py's bound).
        verify_s = service.recovery.verify_timeout_s or self.policy.verify_timeout_s
        until = now + action.timeout_s + ACTION_GRACE_S + verify_s
        entry["attempt"] = pol.begin_attempt(st, now, entry["id"], self.limits(service), until)
        self._mine[service.name] = (entry["id"], self._term)
        return entry

    def _launch(self, service: ServiceSettings, entry: dict) -> None:
        self._publish(entry, new=True)
        self._republish()
        name = f"recovery-{service.name}"
        worker = threading.Thread(target=self._attempt, args=(service, entry), name=name, daemon=True)
        try:
            worker.start()
        except Exception as exc:  # noqa: BLE001 - no thread (a process at its limit): release, never wedge
            log.warning("recovery of %s could not start: %s", service.name, exc)
            self._finish(service, recovered=False, interrupted=True)
            self._publish({**entry, "outcome": ACTION_FAILED, "error": f"could not start a worker thread: {exc}"})
            return
        with self._lock:
            if service.name in self._states and self._states[service.name].running_id == entry["id"]:
                self._workers[service.name] = worker

    def _attempt(self, service: ServiceSettings, entry: dict) -> None:
        """One attempt on its worker thread: act, verify, record, update the policy state."""
        recovered = interrupted = False
        try:
            ctx = ActionContext(service, entry["trigger"], entry["attempt"], entry["id"])
            verify_kwargs = {
                "check": self._check,
                "timeout_s": service.recovery.verify_timeout_s or self.policy.verify_timeout_s,
                "interval_s": self.policy.verify_interval_s,
                "stop": self._stopping,
            }
            times = act_and_verify(self._actions[service.name], ctx, verify_kwargs, self._clock)
            recovered = times.healthy_after is not None
            entry = finished_entry(entry, times, self._wall())
            if not self.leading() or self._term != self._mine.get(service.name, (None, self._term))[1]:
                # Cut off by a lost leadership (perhaps regained since): not a failure of the service.
                entry = {**entry, "outcome": INTERRUPTED, "reason": "leadership lost during the attempt"}
                interrupted = True
            if entry["outcome"] == STILL_DOWN and self._stopping.is_set():
                entry["error"] = "verification interrupted: the dashboard is stopping"
                interrupted = True  # we stopped looking; the service did not fail the attempt
        except Exception as exc:  # noqa: BLE001 - the bookkeeping below must run whatever happened
            log.exception("recovery attempt for %s failed", service.name)
            entry = {**entry, "outcome": ACTION_FAILED, "error": f"{type(exc).__name__}: {exc}"[:500]}
        finally:
            event = self._finish(service, recovered, interrupted)
            if event == pol.CIRCUIT_OPENED:
                entry["circuit_open"] = True
            elif event == pol.FLAPPING:
                entry["flapping"] = True
        self._log_outcome(service.name, entry, event)
        self._publish(entry)
        self._republish()
        if recovered and self.monitor is not None:
            self.monitor.trigger_sweep()  # the views show it up now, not one interval later

    def _finish(self, service: ServiceSettings, recovered: bool, interrupted: bool = False) -> str | None:
        """Policy bookkeeping after an attempt; returns pol.CIRCUIT_OPENED, pol.FLAPPING or None."""
        with self._lock:
            st = self._states[service.name]
            limits = self.limits(service)
            event = pol.end_attempt(st, self._clock(), self._wall(), recovered, limits, interrupted)
            self._mine.pop(service.name, None)
            if self._workers.get(service.name) is threading.current_thread():
                del self._workers[service.name]
        if event == pol.CIRCUIT_OPENED:
            self._save()
        takeover.share(self, service.name)
        return event

    def _log_outcome(self, name: str, entry: dict, event: str | None) -> None:
        """A recovery that did not bring the service back is a WARNING, in the action's own words."""
        outcome = entry["outcome"]
        if outcome == RECOVERED:
            log.info("recovery of %s: recovered in %.1fs", name, entry.get("time_to_healthy_s") or 0.0)
        else:
            reason = entry.get("error") or ("still down after verification" if outcome == STILL_DOWN else outcome)
            log.warning("recovery of %s failed (%s): %s", name, outcome, reason)
        if event == pol.CIRCUIT_OPENED:
            log.warning("%s: circuit open, automatic recovery stops: needs attention", name)
        elif event == pol.FLAPPING:
            log.warning("%s is flapping: it keeps failing after successful recoveries; backing off", name)

    def _set_shared(self, name: str, changes: dict, reset: bool = False) -> None:
        if not self._sync.set(name, changes, reset):
            raise RecoveryConflict("shared_state_unreachable", "the shared database cannot be reached: nothing changed")

    def _changed(self, name: str) -> dict:
        self._save()
        self._republish()
        return self.status(name)

    def _publish(self, entry: dict, new: bool = False) -> None:
        try:
            (self.log.append if new else self.log.update)(entry)
        except Exception:  # noqa: BLE001 - a log that cannot be written must never wedge an attempt
            log.exception("recovery log: cannot record %s", entry.get("id"))
        self.bus.publish({"type": "recovery", "entry": entry, "status": self.status(entry["service"])})

    def _republish(self) -> None:
        # A follower's states are not the leader's: its page shows what the leader republishes.
        if self.monitor is not None and not self._stopping.is_set() and self.leading():
            try:
                self.monitor.republish()
            except Exception:  # noqa: BLE001 - a snapshot problem must not fail a recovery
                log.exception("snapshot after a recovery change failed")

    def _save(self) -> None:
        if self._sync is not None:
            return  # the table is the state; nothing in state_path
        with self._lock:
            save_state(self.state_path, self._states)
