"""The `docker` action: restart exactly one named container through the Docker Engine API."""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests

from ops.recovery.actions import FAILED, OK, TIMED_OUT, ActionContext, ActionResult, RecoveryAction

log = logging.getLogger(__name__)

MAX_STOP_GRACE_S = 10  # what `docker restart` waits before it kills the container


def default_client_factory(timeout_s: float):
    """A docker SDK client over the local socket (DOCKER_HOST etc. respected).

    Imported here, not at module level, so the dashboard runs on a host without the SDK or a daemon.
    """
    import docker

    return docker.from_env(timeout=max(1, int(timeout_s)))


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower()


class DockerAction(RecoveryAction):
    """`containers.get(name).restart()`: one container, never a compose project or a filter."""

    kind = "docker"

    def __init__(self, container: str, timeout_s: float, client_factory: Callable[[], object] | None = None) -> None:
        super().__init__(timeout_s)
        self.container = container.lstrip("/")
        self._factory = client_factory or (lambda: default_client_factory(timeout_s))
        self._client = None

    def _get_client(self):
        if self._client is None:
            self._client = self._factory()  # not cached on failure: the daemon may come back
        return self._client

    def run(self, ctx: ActionContext) -> ActionResult:
        grace = max(1, min(MAX_STOP_GRACE_S, int(self.timeout_s / 3)))
        try:
            client = self._get_client()
        except Exception as exc:  # noqa: BLE001 - no SDK, no socket, no permission: all "cannot act"
            return ActionResult(FAILED, error=f"Docker engine not reachable: {exc}"[:500])
        try:
            container = client.containers.get(self.container)
            container.restart(timeout=grace)
            container.reload()
        except Exception as exc:  # noqa: BLE001 - docker.errors.* and requests errors alike
            if _is_timeout(exc):
                return ActionResult(TIMED_OUT, error=f"Docker did not finish within {self.timeout_s:g}s")
            if type(exc).__name__ == "NotFound":
                return ActionResult(FAILED, error=f"no such container: {self.container}")
            self._client = None  # a broken connection is rebuilt on the next attempt
            return ActionResult(FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
        status = getattr(container, "status", "?")
        short_id = getattr(container, "short_id", "?")
        return ActionResult(
            OK,
            output_tail=f"restarted container {self.container} ({short_id}); status {status}",
            extra={"container": self.container},
        )

    def describe(self) -> str:
        return f"docker restart {self.container}"
