"""One demo service process: a loopback HTTP or TCP server that plays a Bytebot service."""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
PARENT_POLL_S = 0.5

# Bodies mimic what the real services answer, so expect_body checks in the monitor mean something.
BODIES: dict[str, tuple[bytes, str]] = {
    "/novnc/vnc.html": (
        (b"<!DOCTYPE html><html><head><title>noVNC</title></head><body>noVNC demo desktop: ok</body></html>\n"),
        "text/html; charset=utf-8",
    ),
    "/health/liveliness": (b'"I\'m alive!"', "application/json"),
    "/tasks": (b'{"tasks": [], "total": 0}', "application/json"),
}
DEFAULT_BODY = (b"ok\n", "text/plain; charset=utf-8")


@dataclass(frozen=True)
class Behaviour:
    """How an HTTP demo service answers: which paths, how slowly, how often it fails."""

    paths: frozenset[str]
    latency_ms: float
    jitter_ms: float
    fail_rate: float

    def delay_s(self) -> float:
        """Return one randomised response delay in seconds."""
        jitter = random.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0.0, self.latency_ms + jitter) / 1000.0


class DemoHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server that carries its Behaviour and keeps quiet about client hang-ups."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        super().__init__(address, DemoHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Log at debug: a probe that timed out and hung up is normal, not a traceback."""
        logger.debug("request from %s failed: %s", client_address, sys.exc_info()[1])


class DemoHandler(BaseHTTPRequestHandler):
    """Answers GET/HEAD on the configured paths with 200 (or 503 at fail_rate), else 404."""

    server: DemoHTTPServer

    def do_GET(self) -> None:
        """Answer a GET."""
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        """Answer a HEAD."""
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Drop the per-request access log; probes would flood stderr."""

    def _respond(self, send_body: bool) -> None:
        behaviour = self.server.behaviour
        path = urlsplit(self.path).path
        if path not in behaviour.paths:
            self._send(404, b"not found\n", "text/plain; charset=utf-8", send_body)
            return
        time.sleep(behaviour.delay_s())
        if random.random() < behaviour.fail_rate:
            self._send(503, b"unavailable\n", "text/plain; charset=utf-8", send_body)
            return
        body, content_type = BODIES.get(path, DEFAULT_BODY)
        self._send(200, body, content_type, send_body)

    def _send(self, status: int, body: bytes, content_type: str, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def serve_http(host: str, port: int, behaviour: Behaviour) -> tuple[int, Callable[[], None]]:
    """Bind and serve HTTP on a thread; return the bound port and a closer."""
    server = DemoHTTPServer((host, port), behaviour)
    # A short poll interval keeps shutdown(), and so a restart, well under a second.
    serve = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    serve.start()

    def close() -> None:
        server.shutdown()
        server.server_close()

    return server.server_address[1], close


def serve_tcp(host: str, port: int) -> tuple[int, Callable[[], None]]:
    """Bind a TCP port that accepts and closes connections; return the port and a closer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # SO_REUSEADDR lets a restart rebind the same port while old connections sit in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    threading.Thread(target=_accept_loop, args=(sock,), name="demo-tcp", daemon=True).start()

    def close() -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        sock.close()

    return sock.getsockname()[1], close


def _accept_loop(sock: socket.socket) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return  # listening socket closed: we are shutting down
        conn.close()


def die_with_parent(expected_ppid: int) -> None:
    """Make this process exit when its parent does (pdeathsig, plus a polling fallback)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            logger.debug("prctl(PR_SET_PDEATHSIG) unavailable", exc_info=True)
    # The parent may have died before prctl took effect; the signal would then never come.
    if os.getppid() != expected_ppid:
        os._exit(0)
    watcher = threading.Thread(
        target=_watch_parent,
        args=(expected_ppid,),
        name="demo-parent-watch",
        daemon=True,
    )
    watcher.start()


def _watch_parent(expected_ppid: int) -> None:
    while os.getppid() == expected_ppid:
        time.sleep(PARENT_POLL_S)
    # os._exit, not a graceful stop: nobody is left to care, and nothing can block it.
    os._exit(0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line of one demo service."""
    parser = argparse.ArgumentParser(prog="python -m ops.demo_service", description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--kind", choices=("http", "tcp"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--jitter-ms", type=float, default=10.0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--paths", default="/,/tasks", help="comma-separated HTTP paths")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when it goes away")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one demo service until SIGTERM/SIGINT or the parent's death."""
    args = parse_args(argv)
    die_with_parent(args.parent_pid if args.parent_pid is not None else os.getppid())
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.kind == "http":
        paths = frozenset(p.strip() for p in args.paths.split(",") if p.strip())
        behaviour = Behaviour(paths, args.latency_ms, args.jitter_ms, args.fail_rate)
        port, close = serve_http(args.host, args.port, behaviour)
    else:
        port, close = serve_tcp(args.host, args.port)
    print(f"LISTENING {port}", flush=True)
    while not stop.wait(PARENT_POLL_S):
        pass
    close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
