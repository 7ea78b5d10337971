"""A forking HTTP server, the way websockify serves noVNC: the parent accepts, a child per connection.

Each child inherits the listening socket and serves keep-alive requests on its connection until
the client closes it. Kill the parent and the children live on: the listening socket stays open
(in the children) but nobody accepts, so every *new* client hangs while an old keep-alive
connection still gets answers. Prints the port, then serves. Run: python -m tests.servers.forking_http
"""

from __future__ import annotations

import os
import signal
import socket
from http.server import BaseHTTPRequestHandler

BODY = b"<html><title>noVNC</title></html>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says "Connection: close"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, addr = listener.accept()
        if os.fork() == 0:  # the child keeps `listener` open, as websockify's workers do
            Handler(conn, addr, None)
            conn.close()
            os._exit(0)
        conn.close()


if __name__ == "__main__":
    main()
