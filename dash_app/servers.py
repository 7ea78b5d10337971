"""The two listeners: waitress for HTTP (dashboard + API), Werkzeug for the WebSocket."""

from __future__ import annotations

import errno
import logging
import threading

from waitress.server import create_server
from werkzeug.serving import make_server

log = logging.getLogger(__name__)


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


class HttpServer:
    """Waitress, a production WSGI server, in a background thread."""

    def __init__(self, app, host: str, port: int, threads: int = 16) -> None:
        self._server = _bind(
            "HTTP",
            host,
            port,
            lambda: create_server(
                app,
                host=host,
                port=port,
                threads=threads,
                ident="mission-control",
                clear_untrusted_proxy_headers=True,
            ),
        )
        self.port = int(self._server.effective_port)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="http-server", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run()
        except OSError:
            if not self._stopping:  # stop() closes sockets under the loop's select(): expected then
                raise

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._server.task_dispatcher.shutdown(timeout=2)
        for channel in list(self._server._map.values()):  # listening socket and open connections
            channel.close()
        self._thread.join(timeout=2)


class WebSocketServer:
    """Werkzeug's threaded server (flask-sock does not run under waitress); one thread per client."""

    def __init__(self, app, host: str, port: int) -> None:
        self._server = _bind("WebSocket", host, port, lambda: make_server(host, port, app, threaded=True))
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="ws-server", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)
