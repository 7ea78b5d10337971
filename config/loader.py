"""Load and validate the configuration file; every error names the file and the field."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from config.settings import Settings

DEFAULT_CONFIG_PATH = Path(__file__).with_name("health_config.json")
PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(Exception):
    """A configuration problem, already worded for the operator (file: field: message)."""


def _printable(text: str) -> str:
    """Escape what would break the one-line-per-error shape (newlines) or a terminal (controls, surrogates)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _key(part: object) -> str:
    """A mapping key as it reads in a field path; an odd one (unknown keys are anything) is quoted."""
    text = str(part)
    return text if PLAIN_KEY_RE.fullmatch(text) else repr(text)


def _field_path(loc: tuple) -> str:
    """('services', 1, 'port') -> 'services[1].port'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith(("function-", "tagged-union", "json-or-python")):
            text += f".{_key(part)}" if text else _key(part)
    return text or "(top level)"


def _message(error: dict) -> str:
    message = error["msg"]
    # pydantic prefixes our own ValueErrors; the operator does not need that.
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        message = "unknown key (not a setting; check the spelling in config/README.md)"
    return _printable(message)


def settings_from_dict(data: object, source: str = "<config>") -> Settings:
    """Validate already-parsed data; raise ConfigError naming `source` and the first bad field."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: (top level): must be a JSON object")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_field_path(e['loc'])}: {_message(e)}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate the config file at `path` (default: config/health_config.json)."""
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ConfigError(f"{path}: invalid JSON: {_printable(str(exc))}") from None
    return settings_from_dict(data, str(path))
