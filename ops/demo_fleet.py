"""The embedded demo fleet: real loopback services in child processes, named like Bytebot's."""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from ops.demo_spawn import Spawner, read_listening_port

logger = logging.getLogger(__name__)

STOP_GRACE_S = 3.0
PROBE_TIMEOUT_S = 2.0
DEGRADED_LATENCY_MS = 300


@dataclass(frozen=True)
class DemoServiceSpec:
    """What one demo service is called, how it is probed and how it behaves."""

    name: str
    kind: str  # "http" | "tcp"
    path: str | None  # the probe path for http
    latency_ms: float
    jitter_ms: float
    fail_rate: float
    paths: tuple[str, ...]
    expect_body: str | None = None  # what the monitor should find in the probe's body


# Columns: name, kind, probe path, latency ms, jitter ms, fail rate, served paths, expect_body.
DEMO_SERVICES: tuple[DemoServiceSpec, ...] = (
    DemoServiceSpec(
        "bytebot-desktop", "http", "/novnc/vnc.html", 15, 5, 0.0,
        ("/novnc/vnc.html",), "noVNC",
    ),
    DemoServiceSpec(
        "bytebot-agent", "http", "/tasks?limit=1", 40, 15, 0.03, ("/", "/tasks"), "tasks"
    ),
    # ~450 ms sits deliberately above DEGRADED_LATENCY_MS, so the UI shows a "degraded" row.
    DemoServiceSpec("bytebot-ui", "http", "/", 450, 50, 0.0, ("/",), "ok"),
    DemoServiceSpec("postgres", "tcp", None, 0, 0, 0.0, ()),
    DemoServiceSpec(
        "llm-proxy", "http", "/health/liveliness", 80, 30, 0.05,
        ("/health/liveliness",), "alive",
    ),
)  # fmt: skip


class DemoFleet:
    """Starts, stops and restarts the demo services; kills only the processes it started."""

    def __init__(self, host: str = "127.0.0.1", python: str = sys.executable) -> None:
        self.host = host
        self.python = python
        self._specs = {spec.name: spec for spec in DEMO_SERVICES}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._ports: dict[str, int] = {}
        # Callbacks, the REST API and recovery actions may call us from different threads.
        self._lock = threading.RLock()
        self._spawner: Spawner | None = None
        self._atexit_registered = False

    def start(self, timeout: float = 10.0) -> None:
        """Start every service that is not running and wait for all of them to listen."""
        deadline = time.monotonic() + timeout
        with self._lock:
            started = [name for name in self._specs if self._spawn(name)]
            try:
                for name in started:
                    self._await_listening(name, deadline)
            except BaseException:
                self.stop()
                raise

    def stop(self) -> None:
        """Terminate every child by PID, wait, then kill stragglers; safe to call twice."""
        with self._lock:
            procs = {name: p for name, p in self._procs.items() if p.poll() is None}
            for proc in procs.values():
                proc.terminate()
            deadline = time.monotonic() + STOP_GRACE_S
            for name, proc in procs.items():
                self._reap(name, proc, max(0.0, deadline - time.monotonic()))
            self._procs.clear()
            if self._spawner is not None:
                self._spawner.close()
                self._spawner = None
            if self._atexit_registered:
                atexit.unregister(self.stop)
                self._atexit_registered = False

    def port(self, name: str) -> int:
        """Return the port the service bound (kept across restarts)."""
        self._spec(name)
        try:
            return self._ports[name]
        except KeyError:
            raise RuntimeError(f"demo service {name!r} has not been started") from None

    def stop_service(self, name: str) -> None:
        """Stop one service: SIGTERM, then SIGKILL after STOP_GRACE_S."""
        self._spec(name)
        with self._lock:
            proc = self._procs.pop(name, None)
            if proc is not None and proc.poll() is None:
                proc.terminate()
                self._reap(name, proc, STOP_GRACE_S)

    def start_service(self, name: str, timeout: float = 10.0) -> None:
        """Start one service again on the same port; no-op if it is running."""
        self._spec(name)
        with self._lock:
            if self._spawn(name):
                try:
                    self._await_listening(name, time.monotonic() + timeout)
                except BaseException:
                    self.stop_service(name)
                    raise

    def restart_service(self, name: str) -> None:
        """Stop and start one service, keeping its port."""
        with self._lock:
            self.stop_service(name)
            self.start_service(name)

    def is_running(self, name: str) -> bool:
        """Say whether the service's child process is alive."""
        self._spec(name)
        proc = self._procs.get(name)
        return proc is not None and proc.poll() is None

    def pid(self, name: str) -> int | None:
        """Return the running child's PID, or None."""
        return self._procs[name].pid if self.is_running(name) else None

    def service_configs(self) -> list[dict[str, Any]]:
        """Return one monitor config dict per service (the fleet must have been started).

        Each is recovered by the `demo` action, which restarts that service's process.
        """
        return [{**self._config(spec), "recovery": {"action": "demo"}} for spec in DEMO_SERVICES]

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spec(self, name: str) -> DemoServiceSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(f"unknown demo service {name!r}") from None

    def _config(self, spec: DemoServiceSpec) -> dict[str, Any]:
        base = {
            "name": spec.name,
            "type": spec.kind,
            "host": self.host,
            "port": self.port(spec.name),
        }
        if spec.kind == "tcp":
            return {**base, "timeout_s": PROBE_TIMEOUT_S, "tags": ["demo"]}
        return {
            **base,
            "health_endpoint": spec.path,
            "expect_body": spec.expect_body,
            "timeout_s": PROBE_TIMEOUT_S,
            "degraded_latency_ms": DEGRADED_LATENCY_MS,
            "tags": ["demo"],
        }

    def _argv(self, spec: DemoServiceSpec) -> list[str]:
        options = {
            "--name": spec.name,
            "--kind": spec.kind,
            "--host": self.host,
            # Port 0 the first time; afterwards the remembered one, so restarts keep it.
            "--port": self._ports.get(spec.name, 0),
            "--parent-pid": os.getpid(),
        }
        if spec.kind == "http":
            options["--latency-ms"] = spec.latency_ms
            options["--jitter-ms"] = spec.jitter_ms
            options["--fail-rate"] = spec.fail_rate
            options["--paths"] = ",".join(spec.paths)
        argv = [self.python, "-m", "ops.demo_service"]
        for flag, value in options.items():
            argv += [flag, str(value)]
        return argv

    def _spawn(self, name: str) -> bool:
        """Start the child if it is not running; say whether a new one was started."""
        if self.is_running(name):
            return False
        if self._spawner is None:
            self._spawner = Spawner()
        if not self._atexit_registered:
            # So even an unhandled exception in the dashboard ends the fleet politely
            # (SIGTERM, then reaped) rather than leaving it to the parent-death fallbacks.
            atexit.register(self.stop)
            self._atexit_registered = True
        self._procs[name] = self._spawner.popen(self._argv(self._specs[name]))
        return True

    def _await_listening(self, name: str, deadline: float) -> None:
        proc = self._procs[name]
        try:
            port = read_listening_port(proc, deadline)
        finally:
            assert proc.stdout is not None
            proc.stdout.close()  # the child prints nothing after LISTENING
        self._ports[name] = port
        logger.info("demo service %s started (pid %d, port %d)", name, proc.pid, port)

    def _reap(self, name: str, proc: subprocess.Popen[bytes], grace_s: float) -> None:
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            logger.warning("demo service %s (pid %d) ignored SIGTERM", name, proc.pid)
            proc.kill()
            proc.wait()
        if proc.stdout is not None and not proc.stdout.closed:
            proc.stdout.close()
        msg = "demo service %s stopped (pid %d, port %s, exit %s)"
        logger.info(msg, name, proc.pid, self._ports.get(name), proc.returncode)
