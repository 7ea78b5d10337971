"""One sweep's checks, all at once on a thread pool; each result handed on the moment it returns.

Threads, measured (bench/scale.py, 1,000 loopback services, 20 hanging, 2 s timeout, this 2-core
machine): 32 threads took 3.4-4.9 s and left a hundred or more services unchecked; 256 took about
3.6 s; one thread per service about 2.9-3.1 s before the per-result costs of the monitor were made
O(1). A blocking check spends its time in the kernel (connect, recv) without the GIL, so the pool
needs threads, not CPU: `max_concurrency` "auto" is one per enabled service (config/settings.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from ops.probes import Prober, ProbeResult, timeout_text

log = logging.getLogger(__name__)

SWEEP_GRACE_S = 1.0  # a sweep ends at most this long after the slowest service's own timeout


def overdue(service, ts: datetime, why: str) -> ProbeResult:
    """A failed result for a check that started but did not finish within its timeout."""
    error = f"{timeout_text(service.timeout_s)} ({why})"
    return ProbeResult(service.name, False, service.timeout_s * 1000.0, None, error, ts)


class ProbeRunner:
    """Runs checks on `max_workers` threads; a check still hanging from the last sweep is not doubled."""

    def __init__(self, prober: Prober, max_workers: int, stop: threading.Event) -> None:
        self.prober = prober
        self.max_workers = max_workers
        self._stop = stop
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="probe")
        self._in_flight: dict[str, Future] = {}
        self._sweeps = 0
        self._last_sweep: dict[str, int] = {}  # the sweep in which each service's last check started
        self._last_took: dict[str, float] = {}  # how long each service's last finished check took (s)

    def run(self, services: list, ts: datetime, record: Callable[[ProbeResult], ProbeResult]) -> list[ProbeResult]:
        """Check every service in `services`; `record` each result as it comes; the recorded results."""
        by_name = {s.name: s for s in services}
        results: list[ProbeResult] = []
        pending: dict[Future, str] = {}
        # Each check's future lands here when it ends: O(1) per result, where futures.wait() would
        # install and remove a waiter on every pending future each time (O(n²) over a sweep).
        finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
        started: dict[str, float] = {}  # when each check really began: its timeout runs from there

        self._sweeps += 1
        sweep = self._sweeps

        def check(service):
            began = started[service.name] = time.monotonic()
            self._last_sweep[service.name] = sweep
            try:
                return self.prober.check(service, ts)
            finally:
                self._last_took[service.name] = time.monotonic() - began

        # Least recently checked first: when the pool cannot start every check in time, the ones
        # left out this sweep go first in the next, so no service keeps its old status for long.
        # Among those checked in the same sweep, the slowest last time first: a hanging service's
        # timeout then runs from the sweep's start, not from when a thread came free for it.
        def order(service) -> tuple[int, float]:
            return self._last_sweep.get(service.name, -1), -self._last_took.get(service.name, 0.0)

        for service in sorted(services, key=order):
            if service.name in self._in_flight and not self._in_flight[service.name].done():
                # Its last check has outlived its own deadline (it should not; the watchdog ends it):
                # count a failure instead of piling up a second stuck thread.
                results.append(record(overdue(service, ts, "previous check still hanging")))
                continue
            future = self._pool.submit(check, service)
            self._in_flight[service.name] = future
            pending[future] = service.name
            future.add_done_callback(finished.put)
        # Checks must *start* by this time; each then has its own timeout (+ grace) from its start.
        start_by = time.monotonic() + max((s.timeout_s for s in services), default=0) + SWEEP_GRACE_S
        not_checked: list[str] = []
        while pending and not self._stop.is_set():
            now = time.monotonic()
            if now >= start_by:  # only then can a check be late or unable to start
                self._drop_late(pending, started, by_name, ts, record, results, not_checked)
                if not pending:
                    break
            timeout = 0.1 if now >= start_by else min(0.5, start_by - now)
            try:
                future = finished.get(timeout=timeout)
            except queue.Empty:
                continue
            # A future no longer pending was cancelled or already counted overdue by _drop_late.
            if pending.pop(future, None) is not None:
                results.append(record(future.result()))
        if not_checked:
            # A full probe pool is our limit, not the services' fault: no result, not a failure.
            log.warning(
                "%d service(s) not checked this sweep: the probe pool (max_concurrency=%d) was busy until the "
                "sweep's deadline: %s",
                len(not_checked), self.max_workers, ", ".join(not_checked[:20]),
            )  # fmt: skip
        return results

    @staticmethod
    def _drop_late(pending, started, by_name, ts, record, results, not_checked) -> None:
        """Past the start-by time: unstarted checks are not checked, started ones past their own timeout fail."""
        now = time.monotonic()
        for future, name in list(pending.items()):
            began = started.get(name)
            if began is None and future.cancel():
                not_checked.append(pending.pop(future))
                continue
            service = by_name[name]
            if began is not None and now >= began + service.timeout_s + SWEEP_GRACE_S and not future.done():
                pending.pop(future)
                results.append(record(overdue(service, ts, "no answer")))

    def shutdown(self) -> None:
        """Abandon checks still hanging (the watchdog ends them) and release idle threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
