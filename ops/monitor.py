"""The monitor: concurrent sweeps over every enabled service, news published as it arrives."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.settings import Settings
from ops import stats
from ops.events import EventBus
from ops.fleet import fleet_summary
from ops.probes import Prober, ProbeResult, timeout_text
from ops.seed import states_from_history
from ops.snapshot import build_snapshot, service_view
from ops.status import DOWN, ServiceState, apply_result
from ops.store import HistoryStore
from ops.system_metrics import system_metrics

log = logging.getLogger(__name__)

ResultListener = Callable[[str, ServiceState, ProbeResult], None]
SWEEP_GRACE_S = 1.0  # a sweep ends at most this long after the slowest service's own timeout


def overdue(service, ts: datetime, why: str) -> ProbeResult:
    """A failed result for a check that started but did not finish within its timeout."""
    error = f"{timeout_text(service.timeout_s)} ({why})"
    return ProbeResult(service.name, False, service.timeout_s * 1000.0, None, error, ts)


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
        self._in_flight: dict[str, Future] = {}
        self._last_started: dict[str, float] = {}  # monotonic start of each service's last check
        self._pool = ThreadPoolExecutor(settings.max_concurrency, thread_name_prefix="probe")
        self._figures: dict[str, dict] = {}
        self._system: dict = {}
        self._snapshot: dict = {}
        self._snapshot_text = "{}"
        self._views: dict[str, dict] = {}  # the last view of each service (snapshot or result), for the fleet rule
        self._snapshot_lock = threading.Lock()
        self._sweep_lock = threading.Lock()
        self._progress = threading.Condition()
        self._started = self._finished = 0
        self._running_sweep = False
        self._trigger = threading.Event()
        self._stop = threading.Event()
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
        frame = self.store.frame()
        for name, state in states_from_history(frame, self.states.keys()).items():
            self.states[name] = state
        self._refresh_figures(datetime.now(UTC))
        self._system = system_metrics(self.settings.thresholds, self.data_dir)
        self._publish_snapshot(datetime.now(UTC))

    # -- one sweep -----------------------------------------------------------------------------
    def run_once(self) -> dict:
        """Probe every enabled service concurrently, publish each result, persist, snapshot."""
        with self._sweep_lock:
            with self._progress:
                self._started += 1
                self._running_sweep = True
            began = time.monotonic()
            ts = datetime.now(UTC)
            try:
                results = self._probe_all(ts)
                if results:
                    try:
                        self.store.append(ts, results)  # reports a full disk itself, never raises for it
                    except Exception:  # noqa: BLE001 - a store fault must not freeze the snapshot (a stale page)
                        self.errors += 1
                        log.exception("sweep not stored")
                now = datetime.now(UTC)
                self._refresh_figures(now)
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

    def _probe_all(self, ts: datetime) -> list[ProbeResult]:
        services = [s for s in self.settings.services if s.enabled]
        results: list[ProbeResult] = []
        pending: dict[Future, str] = {}
        started: dict[str, float] = {}  # when each check really began: its timeout runs from there

        def check(service):
            started[service.name] = self._last_started[service.name] = time.monotonic()
            return self.prober.check(service, ts)

        # Least recently checked first: when the pool cannot start every check in time, the ones
        # left out this sweep go first in the next, so no service keeps its old status for long.
        for service in sorted(services, key=lambda s: self._last_started.get(s.name, float("-inf"))):
            if service.name in self._in_flight and not self._in_flight[service.name].done():
                # Its last check has outlived its own deadline (it should not; the watchdog ends it):
                # count a failure instead of piling up a second stuck thread.
                results.append(self._record(overdue(service, ts, "previous check still hanging")))
                continue
            future = self._pool.submit(check, service)
            self._in_flight[service.name] = future
            pending[future] = service.name
        # Checks must *start* by this time; each then has its own timeout (+ grace) from its start.
        start_by = time.monotonic() + max((s.timeout_s for s in services), default=0) + SWEEP_GRACE_S
        not_checked: list[str] = []
        while pending and not self._stop.is_set():
            now = time.monotonic()
            if now >= start_by:  # only then can a check be late or unable to start
                self._drop_late(pending, started, ts, results, not_checked)
                if not pending:
                    break
            timeout = 0.1 if now >= start_by else min(0.5, start_by - now)
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                results.append(self._record(future.result()))
                pending.pop(future)
        if not_checked:
            # A full probe pool is our limit, not the services' fault: no result, not a failure.
            log.warning(
                "%d service(s) not checked this sweep: the probe pool (max_concurrency=%d) was busy until the "
                "sweep's deadline: %s",
                len(not_checked), self.settings.max_concurrency, ", ".join(not_checked[:20]),
            )  # fmt: skip
        return results

    def _drop_late(self, pending, started, ts, results, not_checked) -> None:
        """Past the start-by time: unstarted checks are not checked, started ones past their own timeout fail."""
        now = time.monotonic()
        for future, name in list(pending.items()):
            began = started.get(name)
            if began is None and future.cancel():
                not_checked.append(pending.pop(future))
                continue
            service = self._services[name]
            if began is not None and now >= began + service.timeout_s + SWEEP_GRACE_S and not future.done():
                pending.pop(future)
                results.append(self._record(overdue(service, ts, "no answer")))

    def _record(self, result: ProbeResult) -> ProbeResult:
        """Apply one result at once, so a hung neighbour never delays the news."""
        service = self._services[result.service]
        state = self.states[result.service]
        before = state.status
        stamped = self._overridden(apply_result(service, state, result))
        if state.status != before:
            self._log_change(service.name, before, state.status, result)
        self.checks += 1
        self.failures += 0 if stamped.ok else 1
        view = service_view(service, state, self._figures.get(service.name, {}), self._extras(service.name))
        # The fleet's status and counts travel with every result, computed here by the one rule
        # (ops/fleet.py): no view sums them itself.
        self.bus.publish({"type": "result", "service": view, **self._fleet_with(view)})
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

    def _extras(self, name: str) -> dict:
        extra: dict = {}
        for provide in self.view_extras:
            extra.update(provide(name))
        return extra

    def _refresh_figures(self, now: datetime) -> None:
        self._figures = stats.service_figures(self.store.frame(since=now - timedelta(days=7)), now)

    def _fleet_with(self, view: dict) -> dict:
        """The fleet summary with `view` replacing its service's last view."""
        with self._snapshot_lock:
            self._views[view["name"]] = view
            views = list(self._views.values())
        return fleet_summary(views)

    def _publish_snapshot(self, now: datetime) -> dict:
        views = [
            service_view(s, self.states[s.name], self._figures.get(s.name, {}), self._extras(s.name))
            for s in self.settings.services
        ]
        with self._progress:
            sweep = self._finished + (1 if self._running_sweep else 0)
        snapshot = build_snapshot(now, views, self._system, sweep, storage=self.store.storage_status())
        text = self.bus.publish(snapshot)
        with self._snapshot_lock:
            self._snapshot, self._snapshot_text = snapshot, text
            self._views = {v["name"]: v for v in views}
        return snapshot

    def republish(self) -> dict:
        """A fresh snapshot from the current state without probing (e.g. after a recovery)."""
        return self._publish_snapshot(datetime.now(UTC))

    # -- reading -------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self._snapshot_lock:
            return self._snapshot

    def snapshot_text(self) -> str:
        """The last snapshot as JSON text, serialised once when it was made."""
        with self._snapshot_lock:
            return self._snapshot_text

    def loop_status(self) -> dict:
        running = self._thread is not None and self._thread.is_alive()
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
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.store.flush()
