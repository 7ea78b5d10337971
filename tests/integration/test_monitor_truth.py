"""What the monitor records is true: queued checks are not failures, outages reach the log as WARNINGs."""

from __future__ import annotations

import logging

import pytest

from ops.core import Core
from tests.support import Behaviour, free_port, http_service, make_settings


@pytest.fixture
def core_for(tmp_path):
    made = []

    def make(services, **top):
        core = Core(make_settings(services, **top), tmp_path)
        core.start(run_loop=False)
        made.append(core)
        return core

    yield make
    for core in made:
        core.stop()


def test_a_check_that_could_not_start_before_the_sweep_deadline_is_not_a_failure(core_for, http_server, caplog):
    http_server.routes["/hang"] = Behaviour(hang=True)
    # One probe thread, four services that hang for their whole 0.6 s timeout, then a healthy one.
    # The sweep's checks must start by 0.6 s + 1 s grace: hang0..2 start at 0, 0.6 and 1.2 s;
    # hang3 (1.8 s) and healthy cannot.
    hanging = [http_service(f"hang{i}", http_server, "/hang", timeout_s=0.6) for i in range(4)]
    core = core_for([*hanging, http_service("healthy", http_server, timeout_s=0.6)], max_concurrency=1)
    with caplog.at_level(logging.WARNING, logger="ops.monitor"):
        core.monitor.run_once()
    started = sorted(name for name, st in core.monitor.states.items() if st.last_result is not None)
    assert started == ["hang0", "hang1", "hang2"]
    for name in started:  # each timed from its own start: its timeout, never "queued too long"
        assert core.monitor.states[name].last_result.error == "timeout after 0.6s"
    for name in ("hang3", "healthy"):  # no result, no failure, nothing stored
        assert core.monitor.states[name].consecutive_failures == 0 and core.monitor.states[name].last_result is None
        assert name not in set(core.store.frame()["service"])
    assert any("not checked this sweep" in r.getMessage() and "healthy" in r.getMessage() for r in caplog.records)

    # The next sweep starts with the ones left out, so no service keeps a stale status for long.
    core.monitor.run_once()
    assert core.monitor.states["healthy"].last_result.ok
    assert core.monitor.states["hang3"].last_result.error == "timeout after 0.6s"


def test_a_service_going_down_logs_a_warning_with_its_reason(core_for, caplog):
    core = core_for([{"name": "gone", "url": f"http://127.0.0.1:{free_port()}/", "failure_threshold": 2}])
    with caplog.at_level(logging.INFO, logger="ops.monitor"):
        for _ in range(3):
            core.monitor.run_once()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["gone is down: connection refused"]  # once, at the change
