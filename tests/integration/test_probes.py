"""Probes against real loopback servers: every way a service can answer, or not."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from ops.probes import Prober
from tests.support import Behaviour, free_port, make_settings


@pytest.fixture(scope="module")
def session():
    prober = Prober()
    yield prober
    prober.close()


def check(service_dict, prober):
    service = make_settings([service_dict]).services[0]
    return prober.check(service, datetime.now(UTC))


def test_up_service_reports_status_and_latency(http_server, session):
    result = check({"name": "a", "url": http_server.url("/")}, session)
    assert result.ok and result.http_status == 200 and result.error is None
    assert 0 < result.latency_ms < 1000


def test_slow_service_latency_is_measured(http_server, session):
    http_server.routes["/slow"] = Behaviour(delay_s=0.2)
    result = check({"name": "a", "url": http_server.url("/slow")}, session)
    assert result.ok and result.latency_ms >= 200


def test_http_500_fails_with_the_code(http_server, session):
    http_server.routes["/"] = Behaviour(status=500, body=b"boom")
    result = check({"name": "a", "url": http_server.url("/")}, session)
    assert not result.ok and result.http_status == 500 and result.error == "HTTP 500"


def test_expected_status_list_is_honoured(http_server, session):
    http_server.routes["/"] = Behaviour(status=503)
    assert check({"name": "a", "url": http_server.url("/"), "expected_status": [200, 503]}, session).ok


def test_wrong_body_is_a_body_mismatch(http_server, session):
    http_server.routes["/"] = Behaviour(body=b"maintenance page")
    result = check({"name": "a", "url": http_server.url("/"), "expect_body": "noVNC"}, session)
    assert not result.ok and "body mismatch" in result.error and result.http_status == 200


def test_right_body_passes(http_server, session):
    http_server.routes["/"] = Behaviour(body=b"<title>noVNC</title>")
    assert check({"name": "a", "url": http_server.url("/"), "expect_body": "noVNC"}, session).ok


def test_hanging_service_costs_its_timeout_and_no_more(http_server, session):
    http_server.routes["/"] = Behaviour(hang=True)
    began = time.monotonic()
    result = check({"name": "a", "url": http_server.url("/"), "timeout_s": 0.5}, session)
    assert not result.ok and result.error == "timeout after 0.5s"
    assert time.monotonic() - began < 1.5


def test_refused_connection(session):
    result = check({"name": "a", "url": f"http://127.0.0.1:{free_port()}/"}, session)
    assert not result.ok and result.error == "connection refused"


def test_tcp_up_and_down(tcp_server, session):
    assert check({"name": "db", "type": "tcp", "port": tcp_server.port}, session).ok
    down = check({"name": "db", "type": "tcp", "port": free_port()}, session)
    assert not down.ok and down.error == "connection refused"
