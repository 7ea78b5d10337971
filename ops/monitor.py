"""The monitor: concurrent sweeps over every enabled service, news published as it arrives."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.settings import Settings
from ops.events import EventBus
from ops.figures import Figures
from ops.history.protocol import HistoryStore
from ops.live_views import LiveViews
from ops.probe_runner import ProbeRunner
from ops.probes import Prober, ProbeResult
from ops.seed import states_from_history
from ops.snapshot import service_view
from ops.status import DOWN, ServiceState, apply_result
from ops.system_metrics import system_metrics

log = logging.getLogger(__name__)

ResultListener = Callable[[str, ServiceState, ProbeResult], None]


class _Halt:
    """What the probe runner watches: set when the loop stops or this process stops leading."""

    def __init__(self, stop: threading.Event, leading: Callable[[], bool]) -> None:
        self._stop, self._leading = stop, leading

    def is_set(self) -> bool:
        return self._stop.is_set() or not self._leading()


class Monitor:
    """Holds the live state; `run_once()` is a sweep, the thread only repeats it on the interval."""

    def __init__(
        self, settings: Settings, store: HistoryStore, bus: EventBus, data_dir: str | Path = ".", prober=None
    ) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.data_dir = Path(data_dir)
        self.interval = settings.interval_s
        self._services = {s.name: s for s in settings.services}
        self.states: dict[str, ServiceState] = {s.name: ServiceState() for s in settings.services}
        self.result_listeners: list[ResultListener] = []
        self.view_extras: list[Callable[[str], dict]] = []  # e.g. recovery adds needs_attention
        # A status stored instead of the real one (recovery: "maintenance", left out of uptime).
        self.status_overrides: list[Callable[[str], str | None]] = []
        self.prober: Prober = prober or Prober()
        self._stop = threading.Event()
        # The leader gate (ops/leader.py): a follower never probes, and a leader that loses its
        # lock abandons the checks in flight at once; the embedded default always leads.
        self.leading: Callable[[], bool] = lambda: True
        halt = _Halt(self._stop, lambda: self.leading())
        self._runner = ProbeRunner(self.prober, settings.max_concurrency, halt)  # type: ignore[arg-type]
        self.figures = Figures(store)  # uptime and latency, updated check by check
        self.live = LiveViews(bus)  # views, their texts, the snapshot and the messages
        self._system: dict = {}
        self._sweep_lock = threading.Lock()
        self._progress = threading.Condition()
        self._started = self._finished = 0
        self._running_sweep = False
        self._trigger = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_run: datetime | None = None
        self.next_run: datetime | None = None
        self.sweep_ms: deque[float] = deque(maxlen=1000)
        self.errors = 0
        self.checks = 0
        self.failures = 0

    # -- state from the past -------------------------------------------------------------------
    def restore(self) -> None:
        """Seed counters and statuses from the loaded history, then make a first snapshot."""
        for name, state in states_from_history(self.store, self.states.keys()).items():
            self.states[name] = state
        self.figures.rebuild(datetime.now(UTC))
        self._system = system_metrics(self.settings.thresholds, self.data_dir)
        self._publish_snapshot(datetime.now(UTC))

    # -- one sweep -----------------------------------------------------------------------------
    def run_once(self) -> dict:
        """Probe every enabled service concurrently, publish each result, persist, snapshot."""
        if not self.leading():
            return self.snapshot()  # a follower shows the leader's sweeps (ops/live_relay.py)
        with self._sweep_lock:
            with self._progress:
                self._started += 1
                self._running_sweep = True
            began = time.monotonic()
            ts = datetime.now(UTC)
            try:
                services = [s for s in self.settings.services if s.enabled]
                results = self._runner.run(services, ts, self._record)
                now = datetime.now(UTC)
                if results and self.leading():  # a deposed leader stores nothing more
                    try:
                        self.store.append(ts, results)  # reports a full disk itself, never raises for it
                    except Exception:  # noqa: BLE001 - a store fault must not freeze the snapshot (a stale page)
                        self.errors += 1
                        log.exception("sweep not stored")
                        self.figures.rebuild(now)  # the figures count only what the history holds
                self.figures.advance(now)
                self._system = system_metrics(self.settings.thresholds, self.data_dir)
                snapshot = self._publish_snapshot(now)
            finally:
                self.sweep_ms.append((time.monotonic() - began) * 1000.0)
                self.last_run = ts
                with self._progress:
                    self._finished += 1
                    self._running_sweep = False
                    self._progress.notify_all()
            return snapshot

    def _record(self, result: ProbeResult) -> ProbeResult:
        """Apply one result at once, so a hung neighbour never delays the news."""
        if not self.leading():
            return result  # leadership lost mid-sweep: no state, news or recovery from it
        service = self._services[result.service]
        state = self.states[result.service]
        before = state.status
        stamped = self._overridden(apply_result(service, state, result))
        if state.status != before:
            self._log_change(service.name, before, state.status, result)
        self.checks += 1
        self.failures += 0 if stamped.ok else 1
        self.figures.add(stamped.service, stamped.status, stamped.latency_ms, stamped.error)
        # The fleet's status and counts travel with every result, kept by the one rule
        # (ops/fleet.py, via ops/fleet_tally.py): no view sums them itself.
        self.live.publish_result(self._view(service))
        for listener in self.result_listeners:
            try:
                listener(service.name, state, stamped)
            except Exception:  # noqa: BLE001 - a listener bug must not stop the monitor
                log.exception("result listener failed for %s", service.name)
        return stamped

    @staticmethod
    def _log_change(name: str, before: str, after: str, result: ProbeResult) -> None:
        """A service going down is a WARNING with its reason, so a log filter on level finds outages."""
        if after == DOWN:
            log.warning("%s is down: %s", name, result.error or "check failed")
        elif before == DOWN:
            log.info("%s is %s again", name, after)

    def _overridden(self, result: ProbeResult) -> ProbeResult:
        """The result as stored: the live state keeps the real status, the history may get another."""
        for override in self.status_overrides:
            status = override(result.service)
            if status:
                return dataclasses.replace(result, status=status)
        return result

    def _view(self, service) -> dict:
        extra: dict = {}
        for provide in self.view_extras:
            extra.update(provide(service.name))
        return service_view(service, self.states[service.name], self.figures.of(service.name), extra)

    def _publish_snapshot(self, now: datetime) -> dict:
        views = [self._view(s) for s in self.settings.services]
        with self._progress:
            sweep = self._finished + (1 if self._running_sweep else 0)
        return self.live.publish_sweep(now, views, self._system, sweep, self.store.storage_status())

    def republish(self) -> dict:
        """A fresh snapshot from the current state without probing (e.g. after a recovery)."""
        return self._publish_snapshot(datetime.now(UTC))

    # -- reading -------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return self.live.snapshot()

    def snapshot_text(self) -> str:
        """The last full snapshot as JSON text, assembled once when it was made."""
        return self.live.snapshot_text()

    def loop_status(self) -> dict:
        running = self._thread is not None and self._thread.is_alive() and self.leading()
        return {
            "running": running,
            "interval_s": self.interval,
            "last_run": None if self.last_run is None else self.last_run.isoformat(),
            "next_run": None if self.next_run is None or not running else self.next_run.isoformat(),
            "last_sweep_ms": round(self.sweep_ms[-1], 1) if self.sweep_ms else None,
            "sweeps": self._finished,
            "errors": self.errors,
            "sweep_in_progress": self._running_sweep,
        }

    # -- the loop ------------------------------------------------------------------------------
    def request_sweep(self, timeout: float = 60.0) -> dict:
        """Run a sweep now and return its snapshot; concurrent requests share one sweep."""
        if not self.leading():
            return self.snapshot()  # only the leader probes; its next sweep reaches us by the relay
        with self._progress:
            target = self._started + (0 if self._running_sweep else 1)
        if self._thread is not None and self._thread.is_alive():
            self._trigger.set()
        else:
            with self._sweep_lock:
                pass  # a sweep that was running has finished; ours may no longer be needed
            if self._finished < target:
                self.run_once()
        with self._progress:
            self._progress.wait_for(lambda: self._finished >= target or self._stop.is_set(), timeout)
        return self.snapshot()

    def trigger_sweep(self) -> bool:
        """Ask a running loop for a sweep now without waiting for it; False if no loop runs."""
        if self._thread is None or not self._thread.is_alive():
            return False
        self._trigger.set()
        return True

    def start(self) -> None:
        """Start the loop thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="monitor", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self._trigger.clear()
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - one bad sweep never kills the loop
                self.errors += 1
                log.exception("sweep failed")
            # Start to start: a long sweep shortens the wait, and never stacks a second one.
            delay = max(0.0, self.interval - (time.monotonic() - began))
            self.next_run = datetime.now(UTC) + timedelta(seconds=delay)
            self._trigger.wait(delay)
            if self._stop.is_set():
                break

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the loop, abandon probes still hanging, flush the store."""
        self._stop.set()
        self._trigger.set()
        with self._progress:
            self._progress.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._runner.shutdown()
        self.store.flush()
