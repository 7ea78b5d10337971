"""GET /metrics: the core's figures in Prometheus exposition format, one registry per app."""

from __future__ import annotations

import threading
from collections import Counter as Tally

from flask import Flask, Response, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from ops.core import Core
from ops.probes import ProbeResult
from ops.status import DEGRADED, DOWN, HEALTHY, PENDING, UP, ServiceState

PREFIX = "mission_control"
STATUSES = (UP, DEGRADED, DOWN, PENDING)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SWEEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class CheckMetrics:
    """Counters and the latency histogram, fed by a monitor result listener (on probe threads)."""

    def __init__(self, registry: CollectorRegistry, services: list[str]) -> None:
        checks = Counter(f"{PREFIX}_checks", "Checks made, per service", ["service"], registry=registry)
        failures = Counter(f"{PREFIX}_check_failures", "Failed checks, per service", ["service"], registry=registry)
        latency = Histogram(
            f"{PREFIX}_check_latency_seconds",
            "Latency of successful checks, per service (failed and timed-out checks are not observed)",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        # Children made up front: every service has its series (at 0) before its first check.
        self._children = {name: (checks.labels(name), failures.labels(name), latency.labels(name)) for name in services}

    def on_result(self, name: str, state: ServiceState, result: ProbeResult) -> None:
        checks, failures, latency = self._children[name]
        checks.inc()
        if not result.ok:
            failures.inc()
        if result.ok and result.latency_ms is not None:  # as the README defines latency: successful checks
            latency.observe(result.latency_ms / 1000.0)


class CoreCollector(Collector):
    """Everything else, read from the core when Prometheus scrapes (nothing is kept twice)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._sweeps = Histogram(
            f"{PREFIX}_sweep_duration_seconds", "Duration of monitor sweeps", buckets=SWEEP_BUCKETS, registry=None
        )
        self._last_sweep: float | None = None
        self._outcomes: Tally[tuple[str, str]] = Tally()
        self._finished_ids: set[str] = set()

    def collect(self):
        with self._lock:  # two scrapes at once must not count the same sweep or recovery twice
            self._observe_new_sweeps()
            self._count_new_outcomes()
            yield from self._sweeps.collect()
            yield self._recovery_family()
        yield from self._service_families()
        yield from self._loop_families()
        yield self._notification_family()

    def _notification_family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(
            f"{PREFIX}_notifications",
            "Notification sends by target and outcome (sent, retrying = a failed try, gave_up, dropped, quiet)",
            labels=["target", "outcome"],
        )
        for row in self.core.notifier.overview(limit=0)["counts"]:
            family.add_metric([row["target"], row["outcome"]], row["count"])
        return family

    def _observe_new_sweeps(self) -> None:
        """Feed the histogram the sweeps finished since the last scrape.

        `monitor.sweep_ms` keeps the last 1000 durations; the one seen last is found by identity
        (each duration is its own float object), so no count has to be read in step with the deque.
        A scrape gap of more than 1000 sweeps under-counts; Prometheus scrapes far more often.
        """
        durations = list(self.core.monitor.sweep_ms)
        start = 0
        for index in range(len(durations) - 1, -1, -1):
            if durations[index] is self._last_sweep:
                start = index + 1
                break
        for ms in durations[start:]:
            self._sweeps.observe(ms / 1000.0)
        if durations:
            self._last_sweep = durations[-1]

    def _count_new_outcomes(self) -> None:
        """Count each attempt once, when the log first shows it finished (the log may be cleared)."""
        finished = {}
        for entry in self.core.recovery_log.recent(limit=100_000):
            if entry.get("id") and entry.get("outcome") not in (None, "running"):
                finished[entry["id"]] = entry
        for key in finished.keys() - self._finished_ids:
            entry = finished[key]
            self._outcomes[(str(entry.get("service")), str(entry["outcome"]))] += 1
        self._finished_ids = set(finished)

    def _recovery_family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(
            f"{PREFIX}_recovery_attempts",
            "Recovery attempts by outcome (recovered, still_down, action_failed, timed_out, skipped, interrupted)",
            labels=["service", "outcome"],
        )
        for (service, outcome), count in sorted(self._outcomes.items()):
            family.add_metric([service, outcome], count)
        return family

    def _service_families(self):
        up = GaugeMetricFamily(f"{PREFIX}_service_up", "1 if the service is up or degraded, else 0", labels=["service"])
        status = GaugeMetricFamily(
            f"{PREFIX}_service_status", "1 for the service's current status", labels=["service", "status"]
        )
        failing = GaugeMetricFamily(
            f"{PREFIX}_service_consecutive_failures", "Consecutive failed checks", labels=["service"]
        )
        uptime = GaugeMetricFamily(
            f"{PREFIX}_service_uptime_ratio", "Uptime over a window, from the history", labels=["service", "window"]
        )
        maintenance = GaugeMetricFamily(f"{PREFIX}_service_maintenance", "1 while in maintenance", labels=["service"])
        attention = GaugeMetricFamily(
            f"{PREFIX}_service_needs_attention", "1 while the recovery circuit is open", labels=["service"]
        )
        recovering = 0
        for view in self.core.monitor.snapshot().get("services", []):
            if not view.get("enabled", True):
                continue
            name = view["name"]
            up.add_metric([name], 1 if view["status"] in HEALTHY else 0)
            for state in STATUSES:
                status.add_metric([name, state], 1 if view["status"] == state else 0)
            failing.add_metric([name], view.get("consecutive_failures") or 0)
            for window, percent in (view.get("uptime") or {}).items():
                if percent is not None:
                    uptime.add_metric([name, window], percent / 100.0)
            maintenance.add_metric([name], 1 if view.get("maintenance") else 0)
            attention.add_metric([name], 1 if view.get("needs_attention") else 0)
            recovering += 1 if view.get("recovering") else 0
        running = GaugeMetricFamily(f"{PREFIX}_recoveries_running", "Recovery attempts running now")
        running.add_metric([], recovering)
        return up, status, failing, uptime, maintenance, attention, running

    def _loop_families(self):
        loop = self.core.monitor.loop_status()
        yield CounterMetricFamily(f"{PREFIX}_sweeps", "Monitor sweeps finished", value=loop["sweeps"])
        yield CounterMetricFamily(f"{PREFIX}_sweep_errors", "Sweeps that raised", value=loop["errors"])
        yield GaugeMetricFamily(f"{PREFIX}_interval_seconds", "Seconds between sweeps", value=loop["interval_s"])
        yield GaugeMetricFamily(f"{PREFIX}_history_rows", "Rows in the check history", value=len(self.core.store))
        yield GaugeMetricFamily(f"{PREFIX}_websocket_clients", "WebSocket clients connected", value=len(self.core.bus))


def build_registry(core: Core) -> tuple[CollectorRegistry, CheckMetrics]:
    """A registry of this app's own, and the check counters the caller wires to the monitor."""
    # The `_created` series double the series count and say only when the process started; this is
    # prometheus_client's own switch (process-wide, like PROMETHEUS_DISABLE_CREATED_SERIES).
    disable_created_metrics()
    registry = CollectorRegistry()
    checks = CheckMetrics(registry, core.service_names())
    registry.register(CoreCollector(core))
    ProcessCollector(registry=registry)  # process_resident_memory_bytes, process_open_fds, cpu
    PlatformCollector(registry=registry)
    return registry, checks


def register_prometheus(server: Flask, core: Core) -> tuple[CollectorRegistry, CheckMetrics]:
    """Add GET /metrics to `server`; returns the registry (tests read it) and the check counters."""
    registry, checks = build_registry(core)

    @server.get("/metrics")
    def metrics() -> Response:
        encode, content_type = choose_encoder(request.headers.get("Accept"))
        return Response(encode(registry), content_type=content_type)

    return registry, checks
