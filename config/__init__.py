"""Typed settings and their loader. Imports nothing else of ours."""

from config.loader import DEFAULT_CONFIG_PATH, ConfigError, load_settings, settings_from_dict
from config.settings import RecoverySettings, ServiceSettings, Settings

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ConfigError",
    "RecoverySettings",
    "ServiceSettings",
    "Settings",
    "load_settings",
    "settings_from_dict",
]
