"""The `command` action: an argv list run without a shell, in its own process group, with a timeout."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from config.settings import ServiceSettings
from ops.recovery.actions import FAILED, OK, TAIL_CHARS, TIMED_OUT, ActionContext, ActionResult, RecoveryAction

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # relative programs (ops/recover_bytebot.sh) start here
TERM_GRACE_S = 2.0  # between SIGTERM and SIGKILL to the group, so a script can clean up


def fill_placeholders(argv: tuple[str, ...], service: ServiceSettings) -> list[str]:
    """Replace whole-argument placeholders; an argument that merely contains one is left alone.

    Config validation already refuses partial placeholders, and names are a safe alphabet; even so,
    a value only ever becomes one argv element, never something a shell would split or expand.
    """
    values = {
        "{service}": service.name,
        "{container}": service.recovery.container or service.name,
        "{host}": service.host,
        "{port}": "" if service.port is None else str(service.port),
    }
    return [values.get(arg, arg) for arg in argv]


def _read_tail(handle) -> str | None:
    """The end of what the process wrote, decoded leniently."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - TAIL_CHARS * 4))
    text = handle.read().decode("utf-8", errors="replace")
    return text[-TAIL_CHARS:] or None


def _leader_exited(pid: int) -> bool:
    """Whether the group leader has exited, without reaping it (its PID stays ours until wait())."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def kill_group(proc: subprocess.Popen, grace_s: float = TERM_GRACE_S) -> None:
    """SIGTERM the whole process group, then SIGKILL it; reap the leader only afterwards.

    The leader is reaped last on purpose: until then its PID (= the group id) cannot be reused,
    so killpg can never hit a stranger's group.
    """
    for signum, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not _leader_exited(proc.pid):
            time.sleep(0.05)
    proc.wait()


class CommandAction(RecoveryAction):
    """Run an argv (never through a shell); a timeout kills the whole process group."""

    kind = "command"

    def __init__(self, argv: tuple[str, ...], timeout_s: float, cwd: Path = PROJECT_ROOT) -> None:
        super().__init__(timeout_s)
        self.argv = tuple(argv)
        self.cwd = cwd
        self._running: set[subprocess.Popen] = set()
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()

    def run(self, ctx: ActionContext) -> ActionResult:
        argv = fill_placeholders(self.argv, ctx.service)
        env = {
            **child_environment(os.environ),
            "MC_SERVICE": ctx.service.name,
            "MC_TRIGGER": ctx.trigger,
            "MC_ATTEMPT": str(ctx.attempt),
            "MC_RECOVERY_ID": ctx.entry_id,
        }
        # Output goes to a file, not a pipe: a grandchild that keeps the pipe open could otherwise
        # block us past the timeout, and a file lets us read just the tail.
        with tempfile.TemporaryFile() as out:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=self.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, so a timeout can kill all of it
                    close_fds=True,
                )
            except OSError as exc:
                return ActionResult(FAILED, error=f"cannot start {argv[0]}: {exc.strerror or exc}")
            return self._wait(proc, out)

    def _wait(self, proc: subprocess.Popen, out) -> ActionResult:
        with self._lock:
            self._running.add(proc)
        try:
            try:
                code = proc.wait(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("recovery command %s (pid %d) timed out; killing its group", self.argv[0], proc.pid)
                kill_group(proc)
                return ActionResult(
                    TIMED_OUT,
                    exit_code=proc.returncode,
                    output_tail=_read_tail(out),
                    error=f"timed out after {self.timeout_s:g}s; process group killed",
                )
        finally:
            with self._lock:
                self._running.discard(proc)
                cancelled = proc.pid in self._cancelled
                self._cancelled.discard(proc.pid)
        output = _read_tail(out)
        if cancelled:
            return ActionResult(FAILED, exit_code=code, output_tail=output, error="cancelled: dashboard stopping")
        if code != 0:
            return ActionResult(FAILED, exit_code=code, output_tail=output, error=failure_text(code, output))
        return ActionResult(OK, exit_code=0, output_tail=output)

    def cancel(self) -> None:
        """Kill every running group (shutdown); their attempts end as action_failed."""
        with self._lock:
            running = list(self._running)
            self._cancelled.update(p.pid for p in running)
        for proc in running:
            if proc.poll() is None:
                kill_group(proc, grace_s=0.5)

    def describe(self) -> str:
        return "command " + " ".join(self.argv)


def failure_text(code: int, output: str | None) -> str:
    """ "exit code 1: <the last line it printed>": the command's own words are the reason."""
    last = next((line.strip() for line in reversed((output or "").splitlines()) if line.strip()), None)
    return f"exit code {code}: {last}"[:500] if last else f"exit code {code}"


SECRET_NAME_RE = re.compile(r"(?i)(api_?key|secret|token|passw(or)?d|dsn|database_url|credential)")
# A URL with a password in it (postgresql://user:pass@host/db), whatever the variable is called.
URL_WITH_PASSWORD_RE = re.compile(r"://[^/\s@:]*:[^/\s@]*@")


def child_environment(environ) -> dict[str, str]:
    """Our environment minus anything that looks like a secret (DASHBOARD_API_KEY, the postgres
    check's DSN): a command's output ends up in the recovery log, which the API and page serve."""
    return {k: v for k, v in environ.items() if not SECRET_NAME_RE.search(k) and not URL_WITH_PASSWORD_RE.search(v)}
