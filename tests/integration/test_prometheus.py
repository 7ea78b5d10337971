"""GET /metrics over real HTTP: Prometheus text that prometheus_client's own parser reads back."""

from __future__ import annotations

import sys

import pytest
import requests
import websocket
from prometheus_client.parser import text_string_to_metric_families

from dash_app.factory import create_app
from tests.integration.recovery_support import FAST_POLICY, wait_finished
from tests.support import Behaviour, free_port, http_service, make_settings, wait_for

QUICK = [sys.executable, "-c", "pass"]  # a recovery command that "works", though nothing comes back


@pytest.fixture
def app(tmp_path, http_server):
    """web answers 200, broken 500 (recovered by a quick command after 2 failures), db is a closed port."""
    http_server.routes["/broken"] = Behaviour(status=500, body=b"boom")
    services = [
        http_service("web", http_server),
        http_service(
            "broken", http_server, "/broken", recovery={"action": "command", "command": QUICK, "restart_failures": 2}
        ),
        {"name": "db", "type": "tcp", "port": free_port(), "timeout_s": 0.5},
    ]
    settings = make_settings(services, recovery={**FAST_POLICY, "verify_timeout_s": 0.2})
    mc = create_app(settings, data_dir=tmp_path, start_monitor=False)
    mc.serve("127.0.0.1", 0, 0)
    mc.base = f"http://127.0.0.1:{mc.http.port}"
    yield mc
    mc.stop()


def scrape(app) -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted label items: value}} from one GET /metrics."""
    answer = requests.get(app.base + "/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def test_every_service_has_its_series_before_the_first_check(app):
    samples = scrape(app)
    for name in ("web", "broken", "db"):
        assert value(samples, "mission_control_checks_total", service=name) == 0
        assert value(samples, "mission_control_service_status", service=name, status="pending") == 1
        assert value(samples, "mission_control_service_up", service=name) == 0
    assert value(samples, "mission_control_sweeps_total") == 0


def test_reports_up_status_counters_and_latency_after_sweeps(app):
    for _ in range(3):
        app.core.monitor.run_once()
    samples = scrape(app)
    assert value(samples, "mission_control_service_up", service="web") == 1
    assert value(samples, "mission_control_service_up", service="db") == 0
    assert value(samples, "mission_control_service_status", service="db", status="down") == 1
    assert value(samples, "mission_control_service_status", service="db", status="up") == 0
    assert value(samples, "mission_control_checks_total", service="web") == 3
    assert value(samples, "mission_control_check_failures_total", service="web") == 0
    assert value(samples, "mission_control_check_failures_total", service="db") == 3
    assert value(samples, "mission_control_service_consecutive_failures", service="db") == 3
    # web and broken answered (latency observed); a refused TCP connect has no latency to observe.
    assert value(samples, "mission_control_check_latency_seconds_count", service="web") == 3
    assert value(samples, "mission_control_check_latency_seconds_bucket", service="web", le="+Inf") == 3
    assert 0 < value(samples, "mission_control_check_latency_seconds_sum", service="web") < 3
    assert value(samples, "mission_control_service_uptime_ratio", service="web", window="1h") == 1.0
    assert value(samples, "mission_control_history_rows") == 9
    assert value(samples, "process_open_fds") > 0


def test_sweep_durations_are_each_counted_once_across_scrapes(app):
    app.core.monitor.run_once()
    app.core.monitor.run_once()
    first = scrape(app)
    assert value(first, "mission_control_sweep_duration_seconds_count") == 2
    assert value(first, "mission_control_sweeps_total") == 2
    assert value(scrape(app), "mission_control_sweep_duration_seconds_count") == 2  # nothing new: nothing added
    app.core.monitor.run_once()
    third = scrape(app)
    assert value(third, "mission_control_sweep_duration_seconds_count") == 3
    assert third["mission_control_sweep_duration_seconds_sum"][()] > 0


def test_counts_recovery_attempts_by_outcome_once_each(app):
    app.core.monitor.run_once()
    app.core.monitor.run_once()  # broken's second failure: an automatic recovery starts
    entry = wait_finished(app.core, "broken")
    assert entry["outcome"] == "still_down"  # the command ran, the service still answers 500
    samples = scrape(app)
    assert value(samples, "mission_control_recovery_attempts_total", service="broken", outcome="still_down") == 1
    again = scrape(app)  # a second scrape does not count it again
    assert value(again, "mission_control_recovery_attempts_total", service="broken", outcome="still_down") == 1
    requests.delete(app.base + "/api/logs", timeout=10)
    cleared = scrape(app)  # a cleared log never makes a counter go down
    assert value(cleared, "mission_control_recovery_attempts_total", service="broken", outcome="still_down") == 1


def test_counts_websocket_clients(app):
    assert value(scrape(app), "mission_control_websocket_clients") == 0
    ws = websocket.create_connection(f"ws://127.0.0.1:{app.ws.port}/ws", timeout=5)
    try:
        ws.recv()
        wait_for(lambda: value(scrape(app), "mission_control_websocket_clients") == 1, message="one client")
    finally:
        ws.close()
    wait_for(lambda: value(scrape(app), "mission_control_websocket_clients") == 0, message="no client")


def test_two_apps_in_one_process_keep_separate_registries(app, tmp_path, http_server):
    other = create_app(make_settings([http_service("solo", http_server)]), data_dir=tmp_path / "b", start_monitor=False)
    try:
        other.core.monitor.run_once()
        app.core.monitor.run_once()
        ours = scrape(app)["mission_control_checks_total"]
        assert (("service", "solo"),) not in ours and ours[(("service", "web"),)] == 1
        assert other.metrics_registry.get_sample_value("mission_control_checks_total", {"service": "solo"}) == 1
    finally:
        other.stop()


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(app):
    answer = requests.get(app.base + "/metrics", headers={"Accept": "application/openmetrics-text"}, timeout=10)
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n") and "mission_control_checks_total" in answer.text


def test_the_cached_text_says_what_the_registry_says(app):
    from prometheus_client import generate_latest

    for _ in range(2):
        app.core.monitor.run_once()
    fast = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(requests.get(app.base + "/metrics", timeout=10).text)
        for s in f.samples
        if s.name.startswith("mission_control_service") or s.name.startswith("mission_control_check")
    }
    slow = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(generate_latest(app.metrics_registry).decode())
        for s in f.samples
        if s.name.startswith("mission_control_service") or s.name.startswith("mission_control_check")
    }
    assert fast == slow and len(fast) > 50


class FlakyLog:
    """A recovery log in a database that can be unreachable: read_recent() answers None then."""

    def __init__(self, entries: list[dict]) -> None:
        self.entries, self.down = entries, False

    def read_recent(self, limit: int = 50, service: str | None = None) -> list[dict] | None:
        return None if self.down else self.entries[:limit]

    def recent(self, limit: int = 50, service: str | None = None) -> list[dict]:
        return self.read_recent(limit, service) or []


def test_a_recovery_log_that_could_not_be_read_counts_no_attempt_twice(app):
    log = FlakyLog([{"id": "r1", "service": "broken", "outcome": "recovered"}])
    real, app.core.recovery_log = app.core.recovery_log, log
    try:
        recovered = {"service": "broken", "outcome": "recovered"}
        assert value(scrape(app), "mission_control_recovery_attempts_total", **recovered) == 1
        log.down = True  # a database blip: the ids seen stay
        assert value(scrape(app), "mission_control_recovery_attempts_total", **recovered) == 1
        log.down = False
        log.entries.insert(0, {"id": "r2", **recovered})
        assert value(scrape(app), "mission_control_recovery_attempts_total", **recovered) == 2
    finally:
        app.core.recovery_log = real
