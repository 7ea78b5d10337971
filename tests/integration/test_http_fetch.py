"""The probe's own HTTP reader against real loopback servers sending answers in awkward shapes.

Every test runs through both drivers of ops/http_wire.py: the blocking one (recovery webhooks) and
the probe loop's (every HTTP check).
"""

from __future__ import annotations

import asyncio
import http.client
import time

import pytest

from ops import probe_net
from ops.deadline import Watchdog
from ops.http_fetch import Reply, fetch
from ops.probe_loop import ProbeLoop
from ops.probes import describe
from tests.servers.scripted import ScriptedServer


@pytest.fixture(params=["blocking", "probe loop"])
def watchdog(request):
    """The blocking driver's watchdog; None selects the probe loop's driver."""
    watchdog = Watchdog()
    yield watchdog if request.param == "blocking" else None
    watchdog.close()


@pytest.fixture
def serve():
    servers = []

    def start(*pieces: bytes) -> ScriptedServer:
        servers.append(ScriptedServer(*pieces))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def get(server, watchdog, **kwargs):
    if watchdog is not None:
        return fetch(server.url("/p?q=1"), time.monotonic() + 5, watchdog, **kwargs)

    async def on_the_loop():
        async with asyncio.timeout(5):
            return await probe_net.fetch(server.url("/p?q=1"), **kwargs)

    # On the product's own loop thread (not asyncio.run here: an earlier browser test's Playwright
    # leaves an event loop running in this thread).
    loop = ProbeLoop()
    try:
        return loop.submit(on_the_loop()).result(10)
    finally:
        loop.close()


def test_a_chunked_body_is_decoded_across_reads(serve, watchdog):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = serve(head + b"5\r\nhello\r\n", b"6;ext=1\r\n world\r\n0\r\n\r\n")
    reply = get(server, watchdog, read_limit=1024)
    assert (reply.status, reply.body) == (200, b"hello world")


def test_the_body_stops_at_the_expected_text_and_at_the_read_limit(serve, watchdog):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nabc", b"defghijkl")
    assert get(server, watchdog, read_limit=1024, enough=b"abc").body.startswith(b"abc")
    assert get(server, watchdog, read_limit=5).body == b"abcde"
    assert get(server, watchdog, read_limit=1024).body == b"abcdefghijkl"


def test_content_length_cuts_the_body_and_no_length_reads_to_the_close(serve, watchdog):
    assert get(serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"), watchdog, read_limit=99).body == b"ok"
    assert get(serve(b"HTTP/1.0 200 OK\r\n\r\nall ", b"of it"), watchdog, read_limit=99).body == b"all of it"


def test_a_100_continue_is_skipped_and_a_head_split_over_reads_is_joined(serve, watchdog):
    server = serve(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2", b"03 Fine\r\nX-A: 1\r\n", b"\r\nbody")
    assert get(server, watchdog, read_limit=99) == Reply(203, b"body")


def test_bare_newlines_end_the_head_as_well(serve, watchdog):
    assert get(serve(b"HTTP/1.1 404 Not Found\nContent-Length: 1\n\nx"), watchdog, read_limit=9).body == b"x"


@pytest.mark.parametrize(
    ("pieces", "error", "described"),
    [
        ((), http.client.RemoteDisconnected, "connection closed without an answer"),
        ((b"SSH-2.0-OpenSSH_9.2\r\n\r\n",), http.client.BadStatusLine, "not an HTTP answer"),
        ((b"HTTP/1.1 20x OK\r\n\r\n",), http.client.BadStatusLine, "not an HTTP answer"),
        ((b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000,), http.client.LineTooLong, "LineTooLong"),
    ],
)
def test_an_answer_that_is_not_http_fails_with_the_reason_an_operator_reads(serve, watchdog, pieces, error, described):
    with pytest.raises(error) as raised:
        get(serve(*pieces), watchdog)
    assert described in describe(raised.value, 5)


def test_the_request_is_one_fresh_closing_plain_http_1_1_request(serve, watchdog):
    server = serve(b"HTTP/1.1 204 No Content\r\n\r\n")
    json_type = {"Content-Type": "application/json"}
    assert get(server, watchdog, method="POST", body=b'{"a":1}', headers=json_type).status == 204
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /p?q=1 HTTP/1.1"
    sent = dict(line.split(": ", 1) for line in lines[1:])
    assert sent["Host"] == f"127.0.0.1:{server.port}" and sent["Connection"] == "close"
    assert sent["Accept-Encoding"] == "identity"  # an expected body is matched in plain bytes, never gzip
    assert sent["Content-Length"] == "7" and sent["Content-Type"] == "application/json"


def test_a_header_value_cannot_inject_a_second_header(serve, watchdog):
    server = serve(b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(ValueError, match="invalid header"):
        get(server, watchdog, headers={"X-A": "1\r\nX-Injected: yes"})
    assert server.requests == []
