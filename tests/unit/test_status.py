"""Status transitions: thresholds so one blip is not an outage."""

from __future__ import annotations

from datetime import UTC, datetime

from config import settings_from_dict
from ops.probes import ProbeResult
from ops.status import ServiceState, apply_result, overall_status


def service(**extra):
    return settings_from_dict({"services": [{"name": "s", "port": 1, **extra}]}).services[0]


def feed(svc, state, outcomes):
    statuses = []
    for ok, latency in outcomes:
        result = ProbeResult("s", ok, latency, 200 if ok else None, None if ok else "HTTP 503", datetime.now(UTC))
        statuses.append(apply_result(svc, state, result).status)
    return statuses


def test_marks_service_down_only_after_three_failures():
    svc, state = service(failure_threshold=3), ServiceState()
    assert feed(svc, state, [(True, 5), (False, 5), (False, 5), (False, 5)]) == ["up", "pending", "pending", "down"]
    assert state.consecutive_failures == 3 and state.last_error == "HTTP 503"


def test_one_blip_is_not_an_outage():
    svc, state = service(failure_threshold=2), ServiceState()
    assert feed(svc, state, [(True, 5), (False, 5), (True, 5)]) == ["up", "pending", "up"]
    assert state.consecutive_failures == 0


def test_needs_success_threshold_to_come_back_up():
    svc, state = service(failure_threshold=1, success_threshold=2), ServiceState()
    assert feed(svc, state, [(False, 5), (True, 5), (False, 5), (True, 5), (True, 5)]) == [
        "down",
        "down",
        "down",
        "down",
        "up",
    ]


def test_slow_answer_is_degraded_and_last_change_is_recorded():
    svc, state = service(degraded_latency_ms=100), ServiceState()
    assert feed(svc, state, [(True, 50), (True, 150), (True, 150)]) == ["up", "degraded", "degraded"]
    assert state.last_change == state.last_result.ts or state.last_change is not None


def test_overall_status():
    assert overall_status([]) == "pending"
    assert overall_status(["up", "up"]) == "up"
    assert overall_status(["up", "degraded"]) == "degraded"
    assert overall_status(["up", "pending"]) == "degraded"
    assert overall_status(["pending", "pending"]) == "pending"
    assert overall_status(["up", "down", "degraded"]) == "down"
