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
    # One probe thread, three services that hang for their whole 0.5 s timeout, then a healthy one:
    # the healthy one cannot start before the sweep's deadline (0.5 s + 1 s grace).
    hanging = [http_service(f"hang{i}", http_server, "/hang", timeout_s=0.5) for i in range(4)]
    core = core_for([*hanging, http_service("healthy", http_server, timeout_s=0.5)], max_concurrency=1)
    with caplog.at_level(logging.WARNING, logger="ops.monitor"):
        core.monitor.run_once()
    healthy = core.monitor.states["healthy"]
    assert healthy.consecutive_failures == 0 and healthy.last_result is None  # no result, no failure
    started = [name for name, st in core.monitor.states.items() if st.last_result is not None]
    # Each check that ran was timed from its own start: its timeout, never "queued too long".
    for name in started:
        assert core.monitor.states[name].last_result.error == "timeout after 0.5s"
    assert len(started) < 4 and "healthy" not in started
    assert any("not checked this sweep" in r.getMessage() and "healthy" in r.getMessage() for r in caplog.records)
    assert "healthy" not in set(core.store.frame()["service"])  # nothing stored for it either


def test_a_service_going_down_logs_a_warning_with_its_reason(core_for, caplog):
    core = core_for([{"name": "gone", "url": f"http://127.0.0.1:{free_port()}/", "failure_threshold": 2}])
    with caplog.at_level(logging.INFO, logger="ops.monitor"):
        for _ in range(3):
            core.monitor.run_once()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["gone is down: connection refused"]  # once, at the change
