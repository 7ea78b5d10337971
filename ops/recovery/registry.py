"""Which action class a service's `recovery` block names."""

from __future__ import annotations

from config.settings import ServiceSettings
from ops.recovery.actions import DemoAction, HttpAction, RecoveryAction
from ops.recovery.command import CommandAction
from ops.recovery.docker_action import DockerAction


def build_action(
    service: ServiceSettings, demo=None, docker_client_factory=None, watchdog=None
) -> RecoveryAction | None:
    """The action for `service`, or None for action 'none' (nothing to run)."""
    rec = service.recovery
    if rec.action == "command":
        return CommandAction(rec.command, rec.timeout_s)
    if rec.action == "docker":
        return DockerAction(rec.container, rec.timeout_s, client_factory=docker_client_factory)
    if rec.action == "http":
        return HttpAction(rec.url, rec.timeout_s, watchdog)
    if rec.action == "demo":
        return DemoAction(demo, rec.timeout_s)
    return None
