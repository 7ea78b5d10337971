"""A loopback server that answers each connection with scripted bytes, piece by piece, then closes."""

from __future__ import annotations

import socket
import threading
import time


class ScriptedServer:
    """Sends `pieces` (a short pause between them, so the client reads them in parts) to every
    connection after reading its request head; keeps each request it read in `requests`."""

    def __init__(self, *pieces: bytes, pause_s: float = 0.02) -> None:
        self.pieces, self.pause_s = pieces, pause_s
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                request = b""
                try:
                    while b"\r\n\r\n" not in request:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        request += chunk
                    self.requests.append(request)
                    for piece in self.pieces:
                        conn.sendall(piece)
                        time.sleep(self.pause_s)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()
        self._thread.join(5)
