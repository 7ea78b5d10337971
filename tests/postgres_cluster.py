"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's binaries, a temp dir, a free port.

As root the binaries run as the `postgres` user (initdb and postgres refuse root). The cluster
listens on 127.0.0.1 only, keeps its unix socket in its own temp dir, and is stopped by the
postmaster's PID and deleted by close(); it never touches the checkout's data/ dir.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

from tests.support import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"
PR_SET_CHILD_SUBREAPER = 36


def available() -> bool:
    """Whether the PostgreSQL server binaries are installed (`make setup-test` installs them)."""
    return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


def adopt_orphans() -> None:
    """Become the parent of orphaned descendants (Linux), so a dead postmaster can be reaped.

    `pg_ctl start` leaves the postmaster an orphan. Where PID 1 does not reap orphans (this sandbox's
    init does not), a killed postmaster stays a zombie whose PID makes postmaster.pid look live,
    and the next start refuses. As the subreaper, this process reaps it in `reap()`.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap(pid: int, timeout: float = 10.0) -> None:
    """Wait until `pid` has exited; reap it when it is our child (or adopted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:  # not ours: it is gone once it is not running any more
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
        time.sleep(0.02)
    raise TimeoutError(f"process {pid} did not exit within {timeout:g}s")


class PostgresCluster:
    """initdb'd on creation; `start()`, `stop()`, `close()`. Login over TCP needs `password`."""

    def __init__(self, password: str = "s3cret-Pa55word", **settings: object) -> None:
        self.password = password
        self.root = Path(tempfile.mkdtemp(prefix="mc-pg-"))
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.port = free_port()
        self._as_user = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
        if self._as_user:
            shutil.chown(self.root, USER, USER)
        self._postmasters: set[int] = set()
        try:
            self._initdb(settings)
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    # -- building --------------------------------------------------------------------------
    def _initdb(self, settings: dict) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_user:
            shutil.chown(pwfile, USER, USER)
        # Unix socket: trust (the tests' own admin connections); TCP: a password, like Bytebot's.
        self.run("initdb", "-D", self.data, "-U", USER, f"--pwfile={pwfile}", "--auth-local=trust")
        pwfile.unlink()
        base = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": 20,
            "fsync": "off",  # a throwaway cluster: speed over durability
            "logging_collector": "off",
        }
        self.configure(**{**base, **settings})
        self.write_hba("host all all 127.0.0.1/32 scram-sha-256")

    def configure(self, **settings: object) -> None:
        """Append settings to postgresql.conf (the last one wins); takes effect at the next (re)start."""
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(lines)

    def write_hba(self, *tcp_lines: str) -> None:
        """pg_hba.conf: unix socket trusted, then `tcp_lines`; call reload() on a running server."""
        (self.data / "pg_hba.conf").write_text("local all all trust\n" + "".join(f"{line}\n" for line in tcp_lines))

    def make_standby(self) -> None:
        """Start next time as a standby that never accepts connections (no primary, hot_standby off)."""
        (self.data / "standby.signal").touch()
        if self._as_user:
            shutil.chown(self.data / "standby.signal", USER, USER)
        self.configure(hot_standby="off")

    # -- running ---------------------------------------------------------------------------
    def command(self, program: str, *args: object) -> list[str]:
        """The argv that runs one of the cluster's binaries as the right user."""
        return [*self._as_user, str(PG_BIN / program), *map(str, args)]

    def run(self, program: str, *args: object, timeout: float = 60) -> str:
        proc = subprocess.run(self.command(program, *args), capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{program} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def start_command(self, wait: bool = True) -> list[str]:
        """`pg_ctl start`; with wait=False it returns before the server accepts anything."""
        return self.command("pg_ctl", "start", "-w" if wait else "-W", "-t", "60", "-D", self.data, "-l", self.log)

    def start(self, wait: bool = True) -> None:
        adopt_orphans()
        proc = subprocess.run(self.start_command(wait), capture_output=True, text=True, timeout=90)
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {proc.stderr.strip()}\n{self.log_tail()}")
        self.pid()

    def pid(self, timeout: float = 30.0) -> int:
        """The postmaster's PID (from postmaster.pid), waiting for the file to appear."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
            except (FileNotFoundError, ValueError, IndexError):
                time.sleep(0.01)
                continue
            self._postmasters.add(pid)
            return pid
        raise TimeoutError(f"no postmaster.pid within {timeout:g}s\n{self.log_tail()}")

    def running_pid(self) -> int | None:
        """The postmaster's PID if one is running (not a zombie), else None."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
            return pid if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE else None
        except (FileNotFoundError, ValueError, IndexError, psutil.NoSuchProcess):
            return None

    def signal(self, signum: int) -> None:
        os.kill(self.pid(), signum)

    def reload(self) -> None:
        self.signal(signal.SIGHUP)

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """Stop by the postmaster's PID (smart SIGTERM, fast SIGINT, immediate SIGQUIT) and reap it."""
        pid = self.running_pid()
        if pid is None:
            return
        signum = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        os.kill(pid, signal.SIGCONT)  # a frozen postmaster cannot act on the stop signal
        os.kill(pid, signum)
        reap(pid, timeout)

    def kill(self) -> int:
        """SIGKILL the postmaster (a crash); its children exit on their own. Returns the PID."""
        pid = self.pid()
        children = [c.pid for c in psutil.Process(pid).children()]
        os.kill(pid, signal.SIGKILL)
        reap(pid)
        for child in children:  # adopted by us (see adopt_orphans) once their parent died
            try:
                reap(child, 10)
            except TimeoutError:
                os.kill(child, signal.SIGKILL)
        return pid

    def close(self) -> None:
        """Stop whatever runs (fast, then immediate) and delete the temp dir."""
        try:
            self.stop("fast", timeout=15)
        except (TimeoutError, ProcessLookupError):
            self.stop("immediate", timeout=15)
        finally:
            for pid in self._postmasters:  # zombies of earlier kills, if any are left
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
            shutil.rmtree(self.root, ignore_errors=True)

    # -- talking to it ---------------------------------------------------------------------
    def dsn(self, password: str | None = None, dbname: str = "postgres", host: str = "127.0.0.1") -> str:
        """A postgresql:// URL over TCP with the password (or another one)."""
        secret = self.password if password is None else password
        return f"postgresql://{USER}:{secret}@{host}:{self.port}/{dbname}"

    def admin(self, **kwargs) -> psycopg.Connection:
        """A connection over the unix socket (trusted, so it works whatever pg_hba says about TCP)."""
        return psycopg.connect(host=str(self.root), port=self.port, user=USER, dbname="postgres", **kwargs)

    def query_ok(self, timeout: float = 2.0) -> bool:
        """Whether a real SELECT 1 over TCP with the password succeeds right now."""
        try:
            with psycopg.connect(self.dsn(), connect_timeout=max(2, int(timeout)), autocommit=True) as conn:
                return conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.Error:
            return False

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.query_ok():
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL not ready within {timeout:g}s\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
