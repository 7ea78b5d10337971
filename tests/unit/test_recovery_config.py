"""Recovery config validation: nothing shell-like can be a name, placeholders fill whole arguments only."""

from __future__ import annotations

import json

import pytest

from config import ConfigError, load_settings, settings_from_dict
from config.loader import DEFAULT_CONFIG_PATH
from ops.recovery.command import fill_placeholders


def service(name: str = "web", **recovery) -> dict:
    return {"name": name, "port": 8080, "recovery": recovery}


def error_for(tmp_path, services: list[dict]) -> str:
    path = tmp_path / "health_config.json"
    path.write_text(json.dumps({"services": services}))
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


@pytest.mark.parametrize("name", ["x; rm -rf /", "$(id)", "`id`", "a b", "-rf", "../etc", "a|b", "a\nb", ""])
def test_shell_like_service_names_are_rejected_naming_file_and_field(tmp_path, name):
    message = error_for(tmp_path, [service(name, action="command", command=["ops/recover_bytebot.sh", "{service}"])])
    assert str(tmp_path / "health_config.json") in message
    assert "services[0].name" in message and "letters, digits" in message


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["restart.sh", "--name={service}"], "whole argument"),
        (["restart.sh", "{service}.service"], "whole argument"),
        (["restart.sh", "{cmd}"], "whole argument"),
        (["{service}"], "argument 0"),
        (["restart.sh", ""], "non-empty"),
        ([], "argv"),
    ],
)
def test_command_placeholders_must_be_whole_known_arguments(tmp_path, argv, words):
    message = error_for(tmp_path, [service(action="command", command=argv)])
    assert "services[0].recovery" in message and words in message


@pytest.mark.parametrize(
    ("recovery", "field", "words"),
    [
        ({"action": "docker"}, "services[0].recovery", "container"),
        ({"action": "docker", "container": "$(id)"}, "services[0].recovery.container", "container name"),
        ({"action": "docker", "container": "a; b"}, "services[0].recovery.container", "container name"),
        ({"action": "http", "url": "ftp://x/"}, "services[0].recovery", "http(s)"),
        ({"action": "http", "url": "http://"}, "services[0].recovery", "http(s)"),
        ({"action": "reboot"}, "services[0].recovery.action", "command"),
        ({"action": "command", "command": ["x"], "timeout_s": 0}, "services[0].recovery.timeout_s", "greater"),
        ({"action": "demo", "restart_failures": 0}, "services[0].recovery.restart_failures", "greater"),
    ],
)
def test_bad_recovery_blocks_name_the_field(tmp_path, recovery, field, words):
    message = error_for(tmp_path, [service(**recovery)])
    assert field in message and words.lower() in message.lower(), message


def test_bad_policy_values_name_the_field(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"services": [service()], "recovery": {"max_concurrent": 0}}))
    with pytest.raises(ConfigError, match=r"recovery\.max_concurrent"):
        load_settings(path)


def test_placeholders_fill_whole_arguments_and_nothing_else():
    settings = settings_from_dict(
        {"services": [service("db-1", action="command", command=["r.sh", "{service}", "{port}", "--", "{container}"])]}
    )
    svc = settings.services[0]
    assert fill_placeholders(svc.recovery.command, svc) == ["r.sh", "db-1", "8080", "--", "db-1"]


def test_the_shipped_config_restarts_each_bytebot_service_by_its_own_name():
    settings = load_settings(DEFAULT_CONFIG_PATH)
    for svc in settings.services:
        assert svc.recovery.action == "command"
        assert fill_placeholders(svc.recovery.command, svc) == ["ops/recover_bytebot.sh", svc.name]
