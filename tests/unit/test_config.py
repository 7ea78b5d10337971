"""Config validation: every error names the file and the field; the shipped default is valid."""

from __future__ import annotations

import json

import pytest

from config import DEFAULT_CONFIG_PATH, ConfigError, load_settings, settings_from_dict


def write(tmp_path, data) -> str:
    path = tmp_path / "health_config.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def error_for(tmp_path, data) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert message.startswith(path + ": "), message
    return message


def test_shipped_default_is_the_bytebot_profile():
    settings = load_settings(DEFAULT_CONFIG_PATH)
    by_name = {s.name: s for s in settings.services}
    assert by_name["bytebot-desktop"].target == "http://127.0.0.1:9990/novnc/vnc.html"
    assert by_name["bytebot-agent"].target == "http://127.0.0.1:9991/tasks?limit=1"
    assert by_name["bytebot-ui"].target == "http://127.0.0.1:9992/"
    assert by_name["postgres"].type == "postgres" and by_name["postgres"].port == 5432
    assert by_name["postgres"].dsn_env == "DATABASE_URL"
    assert by_name["llm-proxy"].target.endswith(":4000/health/liveliness")
    assert all("/mcp" not in s.target for s in settings.services)
    assert settings.interval_s == 40


def test_original_shape_still_loads_with_defaults(tmp_path):
    data = {
        "services": [{"name": "bytebot-agent", "port": 9991, "health_endpoint": "/"}],
        "thresholds": {"restart_failures": 3, "cpu_max": 80, "mem_max": 85},
    }
    settings = load_settings(write(tmp_path, data))
    service = settings.services[0]
    assert (service.type, service.host, service.timeout_s, service.failure_threshold) == ("http", "127.0.0.1", 5.0, 3)
    assert settings.thresholds.cpu_max == 80


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"services": [{"name": "a", "port": 1}, {"name": "b", "port": 70000}]}, "services[1].port", "65535"),
        ({"services": [{"name": "a", "port": 1, "colour": "red"}]}, "services[0].colour", "unknown key"),
        ({"services": [{"name": "a", "port": 1}], "intervall_s": 4}, "intervall_s", "unknown key"),
        ({"services": [{"name": "x; rm -rf /", "port": 1}]}, "services[0].name", "letters, digits"),
        ({"services": [{"name": "$(id)", "port": 1}]}, "services[0].name", "letters, digits"),
        ({"services": [{"name": "a", "port": 1}, {"name": "a", "port": 2}]}, "services", "duplicate"),
        ({"services": [{"name": "a", "type": "tcp"}]}, "services[0]", "needs 'port'"),
        ({"services": [{"name": "a", "url": "ftp://x/"}]}, "services[0].url", "http"),
        ({"services": [{"name": "a", "port": 1, "health_endpoint": "health"}]}, "services[0].health_endpoint", "/"),
        ({"services": [{"name": "a", "port": 1, "expected_status": "abc"}]}, "services[0].expected_status", "range"),
        ({"services": [{"name": "a", "port": 1, "timeout_s": 0}]}, "services[0].timeout_s", "greater than 0"),
        ({"services": [{"name": "a", "port": 1, "method": "TRACE"}]}, "services[0].method", "GET"),
        (
            {"services": [{"name": "a", "port": 1, "failure_threshold": 0}]},
            "services[0].failure_threshold",
            "greater than or equal to 1",
        ),
        ({"services": [{"name": "a", "port": 1, "recovery": {"action": "command"}}]}, "services[0].recovery", "argv"),
        ({"services": [{"name": "a", "port": 1}], "thresholds": {"cpu_max": 150}}, "thresholds.cpu_max", "100"),
        ({"services": []}, "services", "at least 1"),
        ({"thresholds": {}}, "services", "required"),
        ([1, 2], "(top level)", "JSON object"),
    ],
)
def test_each_error_names_file_and_field(tmp_path, data, field, words):
    message = error_for(tmp_path, data)
    assert f": {field}: " in message or f": {field}" in message, message
    assert words.lower() in message.lower(), message


def test_invalid_json_names_line_and_column(tmp_path):
    message = error_for(tmp_path, '{"services": [\n  {"name": "a",, "port": 1}]}')
    assert "line 2 column" in message and "invalid JSON" in message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("given", "accepts", "rejects"),
    [(200, [200], [201]), ([200, 204], [204], [203]), ("200-299", [250], [300]), (["200-204", 301], [301], [302])],
)
def test_expected_status_forms(given, accepts, rejects):
    service = settings_from_dict({"services": [{"name": "a", "port": 1, "expected_status": given}]}).services[0]
    assert all(any(r.accepts(c) for r in service.expected_status) for c in accepts)
    assert not any(any(r.accepts(c) for r in service.expected_status) for c in rejects)
