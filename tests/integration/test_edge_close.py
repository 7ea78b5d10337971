"""When the edge closes a connection: never in the middle of a request body that is on its way, and
a refused WebSocket client gets its answer rather than a reset while it is still sending."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from flask import Flask

from dash_app.acceptor import MAX_HEAD_BYTES
from dash_app.edge import Caps, guarded_waitress
from dash_app.servers import WebSocketServer

HEAD_TIMEOUT = 0.3  # maintenance (and so the head deadline) runs about once a second


def body_length(environ, start_response):
    """A WSGI app that answers with the length of the body it read."""
    out = str(len(environ["wsgi.input"].read())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(out)))])
    return [out]


@pytest.fixture
def http_server():
    """GuardedServer with a short head deadline, not yet running (`run_loop` starts it); stopped at the end."""
    server = guarded_waitress(body_length, "127.0.0.1", 0, 4, Caps(total=64, per_address=32))
    server.head_timeout_s = HEAD_TIMEOUT
    thread = threading.Thread(target=server.run, daemon=True)
    server.run_loop = thread.start
    yield server
    server.task_dispatcher.shutdown(timeout=2)
    for channel in list(server._map.values()):
        channel.close()
    if thread.ident is not None:
        thread.join(timeout=5)


@pytest.fixture
def http_port(http_server):
    http_server.run_loop()
    return http_server.effective_port


def read_until(sock: socket.socket, marker: bytes, timeout: float = 5.0) -> bytes:
    """What the server sent until `marker` arrived, or until it closed, reset or went quiet."""
    sock.settimeout(timeout)
    data = b""
    try:
        while marker not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_a_pipelined_request_whose_body_is_slow_is_not_closed_by_the_head_deadline(http_port):
    # The second request's head arrives with the first request; its body comes later. When the first
    # answer is done, the connection is not waiting for a head: the deadline must not close it.
    body = b"x" * 200_000
    first = b"GET /one HTTP/1.1\r\nHost: t\r\n\r\n"
    second = b"POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body)
    with socket.create_connection(("127.0.0.1", http_port), timeout=5) as sock:
        sock.sendall(first + second + body[:1000])
        time.sleep(HEAD_TIMEOUT + 2.0)  # two maintenance rounds past the head deadline
        sock.sendall(body[1000:])  # before the fix: a broken pipe, or no second answer
        answers = read_until(sock, b"\r\n\r\n200000")
    assert answers.count(b"HTTP/1.1 200 OK") == 2, answers
    assert answers.endswith(b"\r\n\r\n200000")


def test_a_head_that_came_in_time_is_served_even_when_the_loop_reads_it_late(http_server):
    # A busy machine can stall the loop between accepting a connection and reading it. The head
    # deadline must not close a connection whose head is already here: its client, still sending the
    # body, would get a broken pipe (the fuzz test saw one in about 7,500 requests).
    body = b"x" * 200_000
    with socket.create_connection(("127.0.0.1", http_server.effective_port), timeout=5) as sock:
        http_server.handle_accept()  # the loop's turn that accepts it, then the loop stalls
        sock.sendall(b"POST /late HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:1000])
        time.sleep(HEAD_TIMEOUT + 0.2)
        http_server.maintenance(time.time())  # its next turn begins with the head deadline
        http_server.run_loop()
        sock.sendall(body[1000:])  # before the fix: BrokenPipeError / ConnectionResetError
        answer = read_until(sock, b"\r\n\r\n200000")
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n200000"), answer


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes `sock` within `seconds`."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_head_that_never_ends_and_an_idle_keep_alive_connection_still_meet_the_deadline(http_port):
    with socket.create_connection(("127.0.0.1", http_port), timeout=5) as half:
        half.sendall(b"GET /half HTTP/1.1\r\nHost: t\r\nX-Slow: ")  # never the blank line that ends it
        assert closed_within(half, HEAD_TIMEOUT + 2.5)
    with socket.create_connection(("127.0.0.1", http_port), timeout=5) as idle:
        idle.sendall(b"POST /one HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        assert read_until(idle, b"\r\n\r\n3").endswith(b"\r\n\r\n3")
        assert closed_within(idle, HEAD_TIMEOUT + 2.5)  # answered, and no second head came


def test_a_refused_websocket_client_still_sending_gets_the_answer_not_a_reset():
    ws = WebSocketServer(Flask(__name__), "127.0.0.1", 0)
    ws.start()
    try:
        with socket.create_connection(("127.0.0.1", ws.port), timeout=5) as sock:
            sock.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * MAX_HEAD_BYTES)
            time.sleep(0.3)  # refused (431) and closed by now
            sock.sendall(b"aaaa")  # the rest of its head: before the fix, "connection reset by peer"
            answer = read_until(sock, b'"detail"')
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    finally:
        ws.stop()
