"""Recovery: actions that bring a service back, and the engine that decides when to run them."""

from ops.recovery.actions import ActionContext, ActionResult, DemoAction, HttpAction, RecoveryAction
from ops.recovery.command import CommandAction
from ops.recovery.docker_action import DockerAction
from ops.recovery.engine import RecoveryConflict, RecoveryEngine, UnknownService
from ops.recovery.registry import build_action

__all__ = [
    "ActionContext",
    "ActionResult",
    "CommandAction",
    "DemoAction",
    "DockerAction",
    "HttpAction",
    "RecoveryAction",
    "RecoveryConflict",
    "RecoveryEngine",
    "UnknownService",
    "build_action",
]
