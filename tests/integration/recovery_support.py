"""Helpers for the recovery tests: a core with a fast policy, child-process servers, log polling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from config import settings_from_dict
from ops.core import Core
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]

# Small numbers so a whole incident plays out in a second or two.
FAST_POLICY = {
    "cooldown_s": 0,
    "backoff_max_s": 0,
    "verify_timeout_s": 0.5,
    "verify_interval_s": 0.05,
    "healthy_reset_s": 0,
}

# An HTTP server in a child process: every `fail_every`-th request gets a 503 (0: never fails).
CHILD_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
fail_every = int(sys.argv[1])
count = [0]
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        count[0] += 1
        code = 503 if fail_every and count[0] % fail_every == 0 else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class ChildServer:
    """A loopback HTTP server process; `close()` kills it by PID."""

    def __init__(self, fail_every: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD_SERVER, str(fail_every)], stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        self.proc.stdout.close()


def marker_command(marker: Path, exit_code: int = 0) -> list[str]:
    """An argv that appends its arguments to `marker` (one line per run) and exits with exit_code."""
    code = "import sys; open(sys.argv[1], 'a').write(' '.join(sys.argv[2:]) + '\\n'); sys.exit(int(sys.argv[2]))"
    return [sys.executable, "-c", code, str(marker), str(exit_code), "{service}"]


def runs(marker: Path) -> int:
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def make_core(data_dir: Path, services: list[dict], demo=None, interval_s: float = 0.2, **top) -> Core:
    """A started core (loop not running) with the fast policy; the caller stops it."""
    policy = {**FAST_POLICY, **top.pop("recovery", {})}
    settings = settings_from_dict({"services": services, "interval_s": interval_s, "recovery": policy, **top})
    core = Core(settings, data_dir, demo=demo)
    core.start(run_loop=False)
    return core


def entries(core: Core, name: str) -> list[dict]:
    """The service's log entries, oldest first."""
    return list(reversed(core.recovery_log.recent(limit=1000, service=name)))


def wait_finished(core: Core, name: str, timeout: float = 15.0) -> dict:
    """The newest entry for `name` once it is no longer running."""

    def done():
        latest = core.recovery_log.recent(limit=1, service=name)
        return latest[0] if latest and latest[0]["outcome"] != "running" else None

    return wait_for(done, timeout, message=f"a finished recovery of {name}")
