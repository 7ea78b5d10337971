"""Starting demo service processes: from one long-lived thread, and reading the port they bound."""

from __future__ import annotations

import os
import queue
import selectors
import subprocess
import threading
import time
from concurrent.futures import Future
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


_Job = tuple[list[str], "Future[subprocess.Popen[bytes]]"]


class Spawner:
    """Runs every Popen on one long-lived thread.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, so a child spawned
    from a short-lived request thread would be killed as soon as that request finished.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        name = "demo-fleet-spawner"
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def popen(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start argv from the spawner thread and return its Popen."""
        future: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((argv, future))
        return future.result()

    def close(self) -> None:
        """Let the spawner thread finish."""
        self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            argv, future = job
            try:
                # stderr is inherited so a crashing child's traceback reaches the console.
                proc = subprocess.Popen(
                    argv,
                    cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    start_new_session=False,
                )
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                future.set_exception(exc)
            else:
                future.set_result(proc)


def read_listening_port(proc: subprocess.Popen[bytes], deadline: float) -> int:
    """Wait (until deadline, monotonic) for the child's `LISTENING <port>` line."""
    assert proc.stdout is not None
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"pid {proc.pid} did not report LISTENING in time")
            if not sel.select(remaining):
                continue
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                code = proc.wait()
                raise RuntimeError(f"pid {proc.pid} exited ({code}) before listening")
            buf += chunk
    word, _, port = buf.split(b"\n", 1)[0].decode(errors="replace").partition(" ")
    if word != "LISTENING" or not port.strip().isdigit():
        raise RuntimeError(f"pid {proc.pid} said {buf!r}, expected 'LISTENING <port>'")
    return int(port)
