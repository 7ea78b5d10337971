"""Checks that cannot be fooled: a new connection each time, and a deadline no server can stretch."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ops.probes import Prober
from tests.integration.processes import ROOT
from tests.servers.drip import DripServer
from tests.support import make_settings, wait_for


@pytest.fixture
def prober():
    prober = Prober()
    yield prober
    prober.close()


def service(**fields):
    return make_settings([{"name": "svc", **fields}]).services[0]


@pytest.fixture
def forking_server():
    """websockify's shape: a parent that forks a child per connection (its own process group)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.servers.forking_http"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    proc.port = int(proc.stdout.readline())
    yield proc
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group we started: the parent and its children
    except ProcessLookupError:
        pass
    proc.wait(5)
    proc.stdout.close()


def test_a_kept_alive_connection_to_a_dead_forking_server_does_not_pass_the_check(forking_server, prober):
    svc = service(url=f"http://127.0.0.1:{forking_server.port}/novnc/vnc.html", expect_body="noVNC", timeout_s=1.0)
    assert prober.check(svc).ok
    pooled = requests.Session()  # what the old probe did: a pooled keep-alive connection
    assert pooled.get(svc.target, timeout=2).status_code == 200

    forking_server.send_signal(signal.SIGKILL)  # the parent dies; its forked child keeps serving
    forking_server.wait(5)

    # The trap is real: the old connection still answers 200 ...
    assert pooled.get(svc.target, timeout=2).status_code == 200
    # ... while a new client cannot get an answer, and so the check fails.
    with pytest.raises(requests.RequestException):  # accepted by the kernel, never answered
        requests.get(svc.target, timeout=1)
    result = prober.check(svc)
    assert not result.ok and result.error == "timeout after 1s"
    pooled.close()


def test_every_check_opens_a_new_connection(prober):
    server = DripServer(mode="silent")
    try:
        for expected in (1, 2, 3):
            prober.check(service(url=server.url(), timeout_s=0.2))
            wait_for(lambda expected=expected: server.connections == expected, 2, message=f"{expected} connections")
    finally:
        server.close()


@pytest.mark.parametrize(
    ("mode", "scheme", "fields"),
    [
        ("headers", "http", {}),  # the status line and headers arrive a byte at a time
        ("body", "http", {"expect_body": "noVNC"}),  # the body drips and never holds the text
        ("silent", "https", {}),  # the TLS handshake never gets an answer
        ("silent", "http", {"method": "HEAD"}),
    ],
)
def test_a_dripping_server_cannot_stretch_a_check_past_its_timeout(prober, mode, scheme, fields):
    server = DripServer(mode=mode, every_s=0.05)
    try:
        began = time.monotonic()
        result = prober.check(service(url=server.url("/", scheme), timeout_s=0.5, **fields))
        took = time.monotonic() - began
    finally:
        server.close()
    assert not result.ok and result.error == "timeout after 0.5s"
    assert took < 0.5 + 0.5  # the deadline holds (a generous margin for a busy machine)


def test_a_budget_shorter_than_the_timeout_cuts_the_check(prober):
    server = DripServer(mode="body", every_s=0.05)
    try:
        result = prober.check(service(url=server.url(), timeout_s=5, expect_body="x" * 10), datetime.now(UTC), 0.3)
    finally:
        server.close()
    assert not result.ok and result.error == "timeout after 0.3s"


def test_bytebot_health_ends_within_the_slowest_timeout_plus_one_second(tmp_path):
    server = DripServer(mode="body", every_s=0.05)
    config = tmp_path / "c.json"
    services = [{"name": "drip", "url": server.url(), "expect_body": "noVNC", "timeout_s": 1}]
    config.write_text(json.dumps({"services": services}))
    try:
        began = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "ops.bytebot_health", "--json", "--config", str(config)],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        took = time.monotonic() - began
    finally:
        server.close()
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["services"][0]["status"] == "down" and report["services"][0]["error"] == "timeout after 1s"
    assert took < 1 + 1 + 1.5  # the slowest timeout + 1 s, plus the interpreter's own start-up


def test_a_name_lookup_that_hangs_ends_at_the_checks_deadline(prober, monkeypatch):
    # The system resolver has its own timeouts (seconds, per server, with retries) and ignores
    # ours; a stalled lookup stands in for an unreachable DNS server here.
    def stalled_lookup(*_args, **_kwargs):
        time.sleep(5)
        raise OSError("never answered")

    monkeypatch.setattr("socket.getaddrinfo", stalled_lookup)
    began = time.monotonic()
    result = prober.check(service(url="http://bytebot-agent.invalid:9991/", timeout_s=0.3))
    assert not result.ok and result.error == "timeout after 0.3s"
    assert time.monotonic() - began < 0.3 + 0.5


def test_ipv6_loopback_is_checked_with_a_bracketed_host_header(prober):
    class V6(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = self.headers["Host"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = V6(("::1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        result = prober.check(service(url=f"http://[::1]:{port}/", expect_body=f"[::1]:{port}"))
        assert result.ok, result.error
    finally:
        server.shutdown()
        server.server_close()


def test_closing_the_prober_ends_a_check_in_flight_and_refuses_new_ones():
    prober = Prober()
    server = DripServer(mode="body", every_s=0.05)
    slow = service(url=server.url(), timeout_s=30, expect_body="never")
    try:
        box = []
        worker = threading.Thread(target=lambda: box.append(prober.check(slow)), daemon=True)
        worker.start()
        wait_for(lambda: server.connections == 1, 5, message="the check to connect")
        began = time.monotonic()
        prober.close()  # the dashboard stops mid-sweep
        worker.join(5)
        assert box and not box[0].ok and time.monotonic() - began < 2  # not 30 s later
        assert not prober.check(slow).ok  # nothing new starts a wait no one would end
    finally:
        server.close()
