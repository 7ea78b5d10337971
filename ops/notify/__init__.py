"""Notifications: incidents from monitor results and recovery news, delivered through Apprise."""

from ops.notify.notifier import Notifier, UnknownTarget

__all__ = ["Notifier", "UnknownTarget"]
