"""Real loopback servers and small builders shared by the tests."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from config import settings_from_dict


@dataclass
class Behaviour:
    """How one path answers: status, body, delay before answering; hang = never answer."""

    status: int = 200
    body: bytes = b"ok"
    delay_s: float = 0.0
    hang: bool = False


class _BackloggedServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: fifty checks connecting at once would see SYNs
    # dropped and retried a second later, which is the test server's limit, not the monitor's.
    request_queue_size = 128


class LoopbackHTTP:
    """A threaded HTTP server on 127.0.0.1:<free port> whose answers the test sets per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Behaviour] = {"/": Behaviour()}
        self.hits = 0
        self._release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner.hits += 1
                behaviour = owner.routes.get(self.path.split("?")[0], Behaviour(status=404, body=b"nope"))
                if behaviour.hang:
                    owner._release.wait(30)
                    return
                time.sleep(behaviour.delay_s)
                self.send_response(behaviour.status)
                self.send_header("Content-Length", str(len(behaviour.body)))
                self.end_headers()
                self.wfile.write(behaviour.body)

            def log_message(self, *args) -> None:
                pass

        self.server = _BackloggedServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class LoopbackTCP:
    """A listening TCP socket that accepts and closes connections (a database port)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def close(self) -> None:
        self._closed = True
        self.sock.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_service(name: str, server: LoopbackHTTP, path: str = "/", **extra) -> dict:
    return {"name": name, "url": server.url(path), "timeout_s": 1.0, **extra}


def make_settings(services: list[dict], **top):
    return settings_from_dict({"services": services, "interval_s": 0.5, **top}, "test")


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
