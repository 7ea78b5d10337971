"""One sweep's checks, all at once; each result handed on the moment it returns.

HTTP and TCP checks run on the probe loop (ops/probe_loop.py), postgres checks on a thread pool
(psycopg blocks). At most `max_concurrency` checks run at once ("auto" is one per enabled service,
config/settings.py, so a sweep lasts about its slowest timeout); a check that cannot start before
the sweep's deadline is left out of that sweep, not failed. Measured with threads for every check
(bench/scale.py, 1,000 loopback services, 20 hanging, 2 s timeout, this 2-core machine): 32 threads
took 3.4-4.9 s and left a hundred or more services unchecked; one per service 2.2-2.3 s.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
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


class _Check:
    """One check of one sweep: when it began and, once it has ended, its result."""

    __slots__ = ("began", "result", "service")

    def __init__(self, service, began: float) -> None:
        self.service, self.began = service, began
        self.result: ProbeResult | None = None


class ProbeRunner:
    """Runs at most `max_workers` checks at once; a check still hanging from the last sweep is not doubled."""

    def __init__(self, prober: Prober, max_workers: int, stop: threading.Event) -> None:
        self.prober = prober
        self.max_workers = max_workers
        self._stop = stop
        self._pool: ThreadPoolExecutor | None = None  # for blocking (postgres) checks, made on first use
        self._in_flight: dict[str, _Check] = {}
        self._sweeps = 0
        self._last_sweep: dict[str, int] = {}  # the sweep in which each service's last check started
        self._last_took: dict[str, float] = {}  # how long each service's last finished check took (s)

    def run(self, services: list, ts: datetime, record: Callable[[ProbeResult], ProbeResult]) -> list[ProbeResult]:
        """Check every service in `services`; `record` each result as it comes; the recorded results."""
        results: list[ProbeResult] = []
        pending: dict[str, _Check] = {}
        # Each check lands here when it ends (put by the probe loop or a pool thread): O(1) per result.
        finished: queue.SimpleQueue[_Check] = queue.SimpleQueue()
        self._sweeps += 1
        sweep = self._sweeps

        # Least recently checked first: when the checks cannot all start in time, the ones left out
        # this sweep go first in the next, so no service keeps its old status for long. Among those
        # checked in the same sweep, the slowest last time first: a hanging service's timeout then
        # runs from the sweep's start, not from when a slot came free for it.
        def order(service) -> tuple[int, float]:
            return self._last_sweep.get(service.name, -1), -self._last_took.get(service.name, 0.0)

        waiting: deque = deque()
        for service in sorted(services, key=order):
            last = self._in_flight.get(service.name)
            if last is not None and last.result is None:
                # Its last check has outlived its own deadline (it should not; each check bounds
                # itself): count a failure instead of piling up a second stuck check.
                results.append(record(overdue(service, ts, "previous check still hanging")))
            else:
                waiting.append(service)
        # Checks must *start* by this time; each then has its own timeout (+ grace) from its start.
        start_by = time.monotonic() + max((s.timeout_s for s in services), default=0) + SWEEP_GRACE_S
        self._start(waiting, ts, sweep, pending, finished)
        next_scan = start_by
        while pending and not self._stop.is_set():
            now = time.monotonic()
            if now >= next_scan:  # only after start_by can a check be late; a scan is O(pending): 10 a second
                self._drop_late(pending, ts, record, results)
                next_scan = now + 0.1
                if not pending:
                    break
            timeout = 0.1 if now >= start_by else min(0.5, start_by - now)
            try:
                check = finished.get(timeout=timeout)
            except queue.Empty:
                continue
            # A check no longer pending was already counted overdue by _drop_late.
            if pending.pop(check.service.name, None) is check:
                results.append(record(check.result))  # type: ignore[arg-type]
            if waiting and time.monotonic() < start_by:
                self._start(waiting, ts, sweep, pending, finished)
        if waiting and not self._stop.is_set():
            # Our concurrency limit, not the services' fault: no result, not a failure.
            log.warning(
                "%d service(s) not checked this sweep: max_concurrency=%d checks were running until the "
                "sweep's deadline: %s",
                len(waiting), self.max_workers, ", ".join(s.name for s in list(waiting)[:20]),
            )  # fmt: skip
        return results

    def _start(self, waiting: deque, ts: datetime, sweep: int, pending: dict, finished) -> None:
        """Start waiting checks while fewer than max_workers run; the loop's all in one batch."""
        on_loop: dict[str, _Check] = {}
        while waiting and len(pending) < self.max_workers:
            service = waiting.popleft()
            check = pending[service.name] = self._in_flight[service.name] = _Check(service, time.monotonic())
            self._last_sweep[service.name] = sweep
            if self.prober.blocks(service):
                future = self._blocking_pool().submit(self.prober.check, service, ts)
                future.add_done_callback(lambda done, check=check: self._pool_ended(check, done, finished))
            else:
                on_loop[service.name] = check
        if on_loop:
            services = [check.service for check in on_loop.values()]
            self.prober.check_all_soon(services, ts, lambda got: self._ended(on_loop[got.service], got, finished))

    def _pool_ended(self, check: _Check, done: Future, finished) -> None:
        if not done.cancelled():  # cancelled: shutdown() dropped it before it started
            self._ended(check, done.result(), finished)  # Prober.check never raises

    def _ended(self, check: _Check, result: ProbeResult, finished) -> None:
        self._last_took[check.service.name] = time.monotonic() - check.began
        check.result = result
        finished.put(check)

    def _blocking_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="probe")
        return self._pool

    @staticmethod
    def _drop_late(pending: dict, ts: datetime, record, results: list) -> None:
        """A check past its own timeout (+ grace) fails as overdue."""
        now = time.monotonic()
        for name, check in list(pending.items()):
            if check.result is None and now >= check.began + check.service.timeout_s + SWEEP_GRACE_S:
                del pending[name]
                results.append(record(overdue(check.service, ts, "no answer")))

    def shutdown(self) -> None:
        """Abandon checks still hanging (each ends by its own deadline) and release idle threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
