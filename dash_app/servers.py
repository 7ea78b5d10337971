"""The two listeners: waitress for HTTP (dashboard + API), Werkzeug behind a head-reading acceptor
for the WebSocket. Both hold slow clients to a head deadline and connection caps (dash_app/edge.py)."""

from __future__ import annotations

import errno
import logging
import socket
import threading

from werkzeug.serving import get_sockaddr, make_server, select_address_family

from dash_app.acceptor import HeadAcceptor
from dash_app.edge import Caps, guarded_waitress, port_caps, raise_fd_limit

log = logging.getLogger(__name__)

DEFAULT_CAPS = port_caps(1024, 512)  # what a caller that gives none gets (the app passes its own)


class PortInUse(Exception):
    """The port is taken; the message is one line for the operator."""


def _bind(what: str, host: str, port: int, bind):
    try:
        return bind()
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            reason = {
                errno.EADDRINUSE: "is already in use",
                errno.EACCES: "needs privileges",
                errno.EADDRNOTAVAIL: "is not an address of this machine",
            }[exc.errno]
            raise PortInUse(f"cannot listen for {what} on {host}:{port}: it {reason}") from None
        raise


def connection_caps(reserve: int) -> Caps:
    """Raise the descriptor limit to its hard limit, then the caps of each port (`reserve` kept back)."""
    return port_caps(raise_fd_limit(), reserve)


class HttpServer:
    """Waitress, a production WSGI server, in a background thread; half-open connections cost no thread."""

    def __init__(
        self, app, host: str, port: int, threads: int = 16, trust_forwarded: bool = False, caps: Caps = DEFAULT_CAPS
    ) -> None:
        # With trusted proxies, dash_app/proxies.py decides per peer; else waitress drops the headers.
        options = {"ident": "mission-control", "clear_untrusted_proxy_headers": not trust_forwarded}
        self._server = _bind("HTTP", host, port, lambda: guarded_waitress(app, host, port, threads, caps, **options))
        self.port = int(self._server.effective_port)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="http-server", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run()
        except OSError:
            if not self._stopping:  # stop() closes sockets under the loop's poll(): expected then
                raise

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._server.task_dispatcher.shutdown(timeout=2)
        for channel in list(self._server._map.values()):  # listening socket and open connections
            channel.close()
        if self._thread.ident is not None:  # started (the other port may have failed to bind first)
            self._thread.join(timeout=2)


def _listen(host: str, port: int) -> socket.socket:
    family = select_address_family(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(get_sockaddr(host, port, family))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class WebSocketServer:
    """flask-sock on Werkzeug (a thread per client, as flask-sock needs), behind HeadAcceptor: a thread
    is given only to a connection whose handshake arrived whole within the deadline, and up to a cap."""

    def __init__(self, app, host: str, port: int, caps: Caps = DEFAULT_CAPS, max_clients: int = 100) -> None:
        self._listener = _bind("WebSocket", host, port, lambda: _listen(host, port))
        self.port = self._listener.getsockname()[1]
        # Werkzeug's server parses and answers each handed-off connection; it never accepts itself.
        self._server = make_server(host, self.port, app, threaded=True, fd=self._listener.fileno())
        # A margin over the client cap: refused handshakes and GET / still get their answer from the app.
        self.acceptor = HeadAcceptor(self._listener, self._handle, caps, max_active=max_clients + 16)

    def _handle(self, sock: socket.socket, addr) -> None:
        try:
            self._server.finish_request(sock, addr)
        except Exception:
            self._server.handle_error(sock, addr)
        finally:
            self._server.shutdown_request(sock)

    def start(self) -> None:
        self.acceptor.start()

    def stop(self) -> None:
        if self.acceptor.stopped:
            return
        self.acceptor.stop()
        self._server.server_close()
        self._listener.close()
