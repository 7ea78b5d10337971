"""The docker action, against a fake SDK client: no Docker engine is reachable from the tests.

The fake stands in for `docker.from_env()`; it records every call, so the tests prove that exactly
the named container is restarted and nothing else is touched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from config import settings_from_dict
from ops.recovery import ActionContext, DockerAction, build_action

ROOT = Path(__file__).resolve().parents[2]


class NotFound(Exception):  # docker.errors.NotFound is matched by name, as the SDK's own class
    pass


class FakeContainer:
    def __init__(self, name: str, calls: list) -> None:
        self.name, self.calls = name, calls
        self.short_id, self.status = "abc123", "running"

    def restart(self, timeout: int) -> None:
        self.calls.append(("restart", self.name, timeout))

    def reload(self) -> None:
        self.calls.append(("reload", self.name))


class FakeContainers:
    def __init__(self, names: set[str], calls: list, error: Exception | None = None) -> None:
        self.names, self.calls, self.error = names, calls, error

    def get(self, name: str) -> FakeContainer:
        self.calls.append(("get", name))
        if self.error is not None:
            raise self.error
        if name not in self.names:
            raise NotFound(f"No such container: {name}")
        return FakeContainer(name, self.calls)

    def list(self, *args, **kwargs):  # never used: restarting "everything" is not something we do
        raise AssertionError("the docker action must not list containers")


class FakeClient:
    def __init__(self, names=("bytebot-agent", "bytebot-ui"), error: Exception | None = None) -> None:
        self.calls: list = []
        self.containers = FakeContainers(set(names), self.calls, error)


def context(name: str = "bytebot-agent") -> ActionContext:
    settings = settings_from_dict(
        {"services": [{"name": name, "port": 9991, "recovery": {"action": "docker", "container": name}}]}
    )
    return ActionContext(settings.services[0], "manual", 1, "id1")


def test_restarts_exactly_the_named_container():
    client = FakeClient()
    action = DockerAction("bytebot-agent", timeout_s=30, client_factory=lambda: client)
    result = action.execute(context())
    assert result.outcome == "ok" and "bytebot-agent" in result.output_tail
    assert client.calls == [("get", "bytebot-agent"), ("restart", "bytebot-agent", 10), ("reload", "bytebot-agent")]


def test_a_missing_container_is_a_failed_action_naming_it():
    client = FakeClient(names=())
    result = DockerAction("bytebot-agent", 30, client_factory=lambda: client).execute(context())
    assert result.outcome == "failed" and "no such container: bytebot-agent" in result.error


def test_no_docker_engine_is_a_failed_action_not_a_crash():
    def no_daemon():
        raise ConnectionError("Error while fetching server API version: socket not found")

    result = DockerAction("bytebot-agent", 30, client_factory=no_daemon).execute(context())
    assert result.outcome == "failed" and "Docker engine not reachable" in result.error


def test_a_docker_api_timeout_is_timed_out():
    client = FakeClient(error=requests.ReadTimeout("Read timed out."))
    result = DockerAction("bytebot-agent", 5, client_factory=lambda: client).execute(context())
    assert result.outcome == "timed_out"


def test_build_action_makes_a_docker_action_for_the_configured_container():
    action = build_action(context().service, docker_client_factory=lambda: FakeClient())
    assert isinstance(action, DockerAction) and action.container == "bytebot-agent"


def test_the_docker_sdk_is_imported_only_when_a_docker_action_runs_and_ops_never_imports_flask():
    code = "import sys, ops.core, ops.recovery; print([m for m in ('docker', 'flask', 'dash') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
