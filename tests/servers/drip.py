"""Loopback servers that answer too slowly for any per-read timeout to notice."""

from __future__ import annotations

import socket
import threading


class DripServer:
    """Sends `head` then one byte of `tail` every `every_s` seconds, forever (or until closed).

    mode "headers": drips the status line and headers; mode "body": sends the headers at once and
    drips the body; mode "silent": accepts and never writes (a TLS handshake that never ends).
    """

    def __init__(self, mode: str = "body", every_s: float = 0.1) -> None:
        self.mode, self.every_s = mode, every_s
        self.connections = 0
        self._closed = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        try:
            conn.settimeout(60)
            conn.recv(65536)  # the request
            if self.mode == "body":
                conn.sendall(head)
            slow_head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 5000 + b"\r\n\r\n"
            stream = slow_head if self.mode == "headers" else b"." * 1_000_000
            for index in range(len(stream)):
                if self._closed.wait(self.every_s):
                    break
                if self.mode != "silent":
                    conn.sendall(stream[index : index + 1])
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._closed.set()
        self.sock.close()
