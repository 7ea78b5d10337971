"""Start `python -m dash_app` as a real process and learn its ports from its log."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORTS_RE = re.compile(r"http://[\d.]+:(\d+)/\s+WebSocket on ws://[\d.]+:(\d+)/ws")


class AppProcess:
    """A dashboard process; its stderr is collected line by line."""

    def __init__(self, *args: str, env: dict | None = None) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dash_app", "--port", "0", "--ws-port", "0", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_ports(self, timeout: float = 20) -> tuple[int, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = PORTS_RE.search(line)
                if match:
                    self.http_port, self.ws_port = int(match[1]), int(match[2])
                    return self.http_port, self.ws_port
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("no ports logged:\n" + "\n".join(self.lines))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def wait(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
