"""GET /metrics: the core's figures in Prometheus exposition format, one registry per app."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter as Tally
from itertools import accumulate

from flask import Flask, Response, request
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from ops.core import Core
from ops.probes import ProbeResult
from ops.status import DEGRADED, DOWN, HEALTHY, PENDING, UP, ServiceState

PREFIX = "mission_control"
STATUSES = (UP, DEGRADED, DOWN, PENDING)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SWEEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _number(value: float) -> str:
    """A sample value as prometheus_client writes it ("3.0", "0.25"), quickly for the common ints."""
    return f"{value}.0" if type(value) is int else floatToGoString(value)


def _sample(name: str, labels: str, value: float) -> str:
    return f"{name}{{{labels}}} {_number(value)}\n"


def _template(series: str) -> str:
    return series.replace("{", "{{").replace("}", "}}") + " {}\n"


def _head(name: str, help_text: str, kind: str) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n"


class _Series:
    """One service's check counters and latency histogram, and their exposition text (cached)."""

    __slots__ = ("checks", "failures", "buckets", "total", "count", "text", "templates")

    def __init__(self, name: str) -> None:
        self.checks = self.failures = self.count = 0
        self.total = 0.0
        self.buckets = [0] * len(LATENCY_BUCKETS)  # not cumulative: one count per bucket
        self.text: tuple[str, str, str] | None = None  # None: changed since it was last rendered
        label = f'service="{name}"'  # names are [A-Za-z0-9._-]: nothing to escape
        latency = f"{PREFIX}_check_latency_seconds"
        les = [floatToGoString(b) for b in (*LATENCY_BUCKETS, float("inf"))]
        series = [f'{latency}_bucket{{le="{le}",{label}}}' for le in les]
        series += [f"{latency}_count{{{label}}}", f"{latency}_sum{{{label}}}"]
        self.templates = (  # str.format templates: the braces of the labels doubled, "{}" for the value
            _template(f"{PREFIX}_checks_total{{{label}}}"),
            _template(f"{PREFIX}_check_failures_total{{{label}}}"),
            "".join(_template(line) for line in series),
        )

    def render(self) -> tuple[str, str, str]:
        checks, failures, latency = self.templates
        values = [_number(n) for n in accumulate(self.buckets)]
        values += [_number(self.count), _number(self.count), _number(self.total)]
        return checks.format(_number(self.checks)), failures.format(_number(self.failures)), latency.format(*values)


class CheckMetrics(Collector):
    """Counters and the latency histogram per service, fed by a monitor result listener.

    Kept as plain numbers with each service's exposition text cached until its next result, so a
    scrape of 1,000 services joins strings instead of formatting 18,000 samples (`text()`); the
    registry reads the same numbers through `collect()` (OpenMetrics, get_sample_value).
    """

    CHECKS, FAILURES, LATENCY = f"{PREFIX}_checks", f"{PREFIX}_check_failures", f"{PREFIX}_check_latency_seconds"
    HELP = {
        CHECKS: "Checks made, per service",
        FAILURES: "Failed checks, per service",
        LATENCY: "Latency of successful checks, per service (failed and timed-out checks are not observed)",
    }

    def __init__(self, services: list[str]) -> None:
        # Every service has its series (at 0) before its first check.
        self._series = {name: _Series(name) for name in services}
        self._text: str | None = None  # all three families, until the next result
        self._lock = threading.Lock()

    def on_result(self, name: str, state: ServiceState, result: ProbeResult) -> None:
        with self._lock:
            series = self._series[name]
            series.checks += 1
            series.failures += 0 if result.ok else 1
            if result.ok and result.latency_ms is not None:  # as the README defines latency: successful checks
                seconds = result.latency_ms / 1000.0
                index = bisect_left(LATENCY_BUCKETS, seconds)  # the first bucket with seconds <= le
                if index < len(LATENCY_BUCKETS):
                    series.buckets[index] += 1
                series.count += 1
                series.total += seconds
            series.text = self._text = None

    def text(self) -> str:
        """The three families in the Prometheus text format; only services checked since are re-rendered."""
        with self._lock:
            if self._text is None:
                for series in self._series.values():
                    if series.text is None:
                        series.text = series.render()
                parts = [series.text for series in self._series.values()]
                self._text = "".join(
                    [
                        _head(f"{self.CHECKS}_total", self.HELP[self.CHECKS], "counter"),
                        *(p[0] for p in parts),
                        _head(f"{self.FAILURES}_total", self.HELP[self.FAILURES], "counter"),
                        *(p[1] for p in parts),
                        _head(self.LATENCY, self.HELP[self.LATENCY], "histogram"),
                        *(p[2] for p in parts),
                    ]
                )
            return self._text

    def collect(self):
        checks = CounterMetricFamily(self.CHECKS, self.HELP[self.CHECKS], labels=["service"])
        failures = CounterMetricFamily(self.FAILURES, self.HELP[self.FAILURES], labels=["service"])
        latency = HistogramMetricFamily(self.LATENCY, self.HELP[self.LATENCY], labels=["service"])
        with self._lock:
            for name, series in self._series.items():
                checks.add_metric([name], series.checks)
                failures.add_metric([name], series.failures)
                cumulative = list(accumulate(series.buckets))
                buckets = [(floatToGoString(b), c) for b, c in zip(LATENCY_BUCKETS, cumulative, strict=True)]
                latency.add_metric([name], [*buckets, ("+Inf", series.count)], series.total)
        yield from (checks, failures, latency)


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
        """Count each attempt once, when the log first shows it finished (the log may be cleared).

        A log in PostgreSQL answers None from read_recent() when the database could not be read:
        then nothing is counted and the ids seen stay, or the next good read would count them all again."""
        log = self.core.recovery_log
        read = getattr(log, "read_recent", None)  # the file log (ops/recovery_log.py) is always readable
        entries = read(limit=100_000) if read is not None else log.recent(limit=100_000)
        if entries is None:
            return
        finished = {}
        for entry in entries:
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

    def _loop_families(self):
        loop = self.core.monitor.loop_status()
        yield CounterMetricFamily(f"{PREFIX}_sweeps", "Monitor sweeps finished", value=loop["sweeps"])
        yield CounterMetricFamily(f"{PREFIX}_sweep_errors", "Sweeps that raised", value=loop["errors"])
        yield GaugeMetricFamily(f"{PREFIX}_interval_seconds", "Seconds between sweeps", value=loop["interval_s"])
        yield GaugeMetricFamily(f"{PREFIX}_history_rows", "Rows in the check history", value=len(self.core.store))
        yield GaugeMetricFamily(f"{PREFIX}_websocket_clients", "WebSocket clients connected", value=len(self.core.bus))


# The per-service gauges, from the snapshot's views: (family, help, labels after service).
GAUGES = (
    (f"{PREFIX}_service_up", "1 if the service is up or degraded, else 0"),
    (f"{PREFIX}_service_status", "1 for the service's current status"),
    (f"{PREFIX}_service_consecutive_failures", "Consecutive failed checks"),
    (f"{PREFIX}_service_uptime_ratio", "Uptime over a window, from the history"),
    (f"{PREFIX}_service_maintenance", "1 while in maintenance"),
    (f"{PREFIX}_service_needs_attention", "1 while the recovery circuit is open"),
)
RUNNING = (f"{PREFIX}_recoveries_running", "Recovery attempts running now")


def _gauge_values(view: dict) -> tuple[list, ...]:
    """(label values after the service, value) per family of GAUGES, for one enabled service's view."""
    status = view["status"]
    uptime = [([w], p / 100.0) for w, p in (view.get("uptime") or {}).items() if p is not None]
    return (
        [([], 1 if status in HEALTHY else 0)],
        [([s], 1 if status == s else 0) for s in STATUSES],
        [([], view.get("consecutive_failures") or 0)],
        uptime,
        [([], 1 if view.get("maintenance") else 0)],
        [([], 1 if view.get("needs_attention") else 0)],
    )


def _key(view: dict) -> tuple:
    """What a service's gauges are made of (see _gauge_values)."""
    uptime = view.get("uptime") or {}
    flags = (view.get("consecutive_failures"), view.get("maintenance"), view.get("needs_attention"))
    return view["status"], *flags, tuple(uptime.items())


class ServiceGauges(Collector):
    """The gauges of every enabled service, read from the monitor's snapshot at scrape time.

    Each service's text is kept with the few fields it is made of (`_key`): a scrape formats only
    the services whose status, failure count, uptime or flags changed, not every new view.
    """

    EXTRA_LABELS = (None, "status", None, "window", None, None)

    def __init__(self, core: Core) -> None:
        self.core = core
        self._cache: dict[str, tuple[tuple, tuple[str, ...]]] = {}
        self._last: list[dict] = []  # the views the whole text below was made of
        self._text = ""
        self._lock = threading.Lock()

    def _views(self) -> list[dict]:
        return [v for v in self.core.monitor.snapshot().get("services", []) if v.get("enabled", True)]

    def _render(self, view: dict) -> tuple[str, ...]:
        name, texts = view["name"], []
        for (family, _), extra, values in zip(GAUGES, self.EXTRA_LABELS, _gauge_values(view), strict=True):
            lines = []
            for labels, value in values:
                more = f',{extra}="{labels[0]}"' if extra else ""
                lines.append(_sample(family, f'service="{name}"{more}', value))
            texts.append("".join(lines))
        return tuple(texts)

    def text(self) -> str:
        views = self._views()
        with self._lock:
            if len(views) == len(self._last) and all(a is b for a, b in zip(views, self._last, strict=True)):
                return self._text
            parts = []
            for view in views:
                key = _key(view)
                cached = self._cache.get(view["name"])
                if cached is None or cached[0] != key:
                    cached = self._cache[view["name"]] = (key, self._render(view))
                parts.append(cached[1])
        out = [
            _head(family, help_text, "gauge") + "".join(p[i] for p in parts)
            for i, (family, help_text) in enumerate(GAUGES)
        ]
        running = sum(1 for v in views if v.get("recovering"))
        out.append(_head(RUNNING[0], RUNNING[1], "gauge") + f"{RUNNING[0]} {_number(running)}\n")
        with self._lock:
            self._last, self._text = views, "".join(out)
        return self._text

    def collect(self):
        views = self._views()
        for i, (family, help_text) in enumerate(GAUGES):
            extra = self.EXTRA_LABELS[i]
            metric = GaugeMetricFamily(family, help_text, labels=["service", extra] if extra else ["service"])
            for view in views:
                for labels, value in _gauge_values(view)[i]:
                    metric.add_metric([view["name"], *labels], value)
            yield metric
        running = GaugeMetricFamily(*RUNNING)
        running.add_metric([], sum(1 for v in views if v.get("recovering")))
        yield running


class Exposition:
    """GET /metrics: the registry for OpenMetrics; for the plain text format the per-service families
    come from their cached texts and only the few fleet-wide ones are formatted per scrape."""

    def __init__(self, core: Core) -> None:
        # The `_created` series double the series count and say only when the process started; this is
        # prometheus_client's own switch (process-wide, like PROMETHEUS_DISABLE_CREATED_SERIES).
        disable_created_metrics()
        self.checks = CheckMetrics(core.service_names())
        self.gauges = ServiceGauges(core)
        self.fleet_wide = CollectorRegistry()  # sweeps, recoveries, loop, notifications, process
        self.registry = CollectorRegistry()  # everything, for OpenMetrics and for tests' get_sample_value
        core_collector = CoreCollector(core)
        for registry in (self.fleet_wide, self.registry):
            registry.register(core_collector)
            ProcessCollector(registry=registry)  # process_resident_memory_bytes, process_open_fds, cpu
            PlatformCollector(registry=registry)
        self.registry.register(self.checks)
        self.registry.register(self.gauges)

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The body and content type for a scraper's Accept header."""
        encode, content_type = choose_encoder(accept)
        if not content_type.startswith("text/plain"):
            return encode(self.registry), content_type
        text = encode(self.fleet_wide).decode() + self.checks.text() + self.gauges.text()
        return text.encode(), content_type


def register_prometheus(server: Flask, core: Core) -> tuple[CollectorRegistry, CheckMetrics]:
    """Add GET /metrics to `server`; returns the registry (tests read it) and the check counters."""
    exposition = Exposition(core)

    @server.get("/metrics")
    def metrics() -> Response:
        body, content_type = exposition.render(request.headers.get("Accept"))
        return Response(body, content_type=content_type)

    return exposition.registry, exposition.checks
