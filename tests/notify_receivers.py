"""Real notification receivers on loopback: a JSON webhook (Apprise's json://) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Records every POSTed JSON body with its arrival time; `mode` is "ok", "fail" (HTTP 503) or "hang"."""

    def __init__(self, path: str = "/hook") -> None:
        self.path = path
        self.mode = "ok"
        self.messages: list[dict] = []
        self.arrived: list[float] = []  # time.monotonic() of each accepted message
        self.attempts = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner._lock:
                    owner.attempts += 1
                    mode = owner.mode
                if mode == "hang":
                    owner._release.wait(30)
                    return
                if mode == "fail":
                    self._answer(503)
                    return
                with owner._lock:
                    owner.messages.append(json.loads(body))
                    owner.arrived.append(time.monotonic())
                self._answer(200)

            def _answer(self, code: int) -> None:
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, secret: str = "s3cr3t-token") -> str:
        """Apprise's generic JSON webhook URL; the path carries a token, as real webhooks' do."""
        return f"json://127.0.0.1:{self.port}{self.path}/{secret}"

    def titles(self) -> list[str]:
        with self._lock:
            return [m.get("title", "") for m in self.messages]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on loopback, with plain-text AUTH; keeps every message."""

    def __init__(self, user: str = "mc", password: str = "mail-pa55word") -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.user, self.password = user, password
        self.messages: list = []
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
                owner.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            good = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=good)

        # aiosmtpd's Controller cannot take port 0 (it connects to the port to see it is up).
        self.port = _free_port()
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticate, auth_require_tls=False
        )
        self.controller.start()

    def url(self) -> str:
        """Apprise's mailto:// to a plain-text server on a port: mode=insecure (no TLS), login with user:password."""
        return (
            f"mailto://{self.user}:{self.password}@127.0.0.1:{self.port}"
            "?from=mission-control@example.com&to=ops@example.com&mode=insecure"
        )

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in list(self.messages)]

    def close(self) -> None:
        self.controller.stop()
