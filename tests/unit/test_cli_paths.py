"""Where `python -m dash_app` keeps its files: flags, variables, and the demo's own folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dash_app.cli import DEMO_DATA_DIR, data_paths, load, parse_args

VARS = {"HISTORY_FILE_PATH": "/srv/h.json", "LOG_FILE_PATH": "/srv/mc.log"}


def paths(argv: list[str], environ: dict) -> tuple[str, str, str]:
    return tuple(str(p) for p in data_paths(parse_args(argv), environ))


def test_a_real_run_uses_data_and_the_file_variables():
    assert paths([], {}) == ("data", "data/health_history.json", "data/dashboard.log")
    assert paths([], VARS) == ("data", "/srv/h.json", "/srv/mc.log")
    mine = ("/var/mc", "/var/mc/health_history.json", "/var/mc/dashboard.log")
    assert paths([], {"DASHBOARD_DATA_DIR": "/var/mc"}) == mine


def test_data_dir_flag_holds_history_and_log_whatever_the_variables_say():
    environ = {**VARS, "DASHBOARD_DATA_DIR": "/var/mc"}
    assert paths(["--data-dir", "/tmp/x"], environ) == ("/tmp/x", "/tmp/x/health_history.json", "/tmp/x/dashboard.log")


def test_demo_keeps_its_own_folder_and_never_the_deployments_files():
    assert DEMO_DATA_DIR != "data" and Path(DEMO_DATA_DIR).parent == Path("data")
    demo = (DEMO_DATA_DIR, f"{DEMO_DATA_DIR}/health_history.json", f"{DEMO_DATA_DIR}/dashboard.log")
    assert paths(["--demo"], {}) == demo
    assert paths(["--demo"], VARS) == demo  # a real deployment's variables in the shell change nothing
    assert paths(["--demo"], {"DASHBOARD_DATA_DIR": "/tmp/d"})[0] == "/tmp/d"
    assert paths(["--demo", "--data-dir", "/tmp/e"], VARS)[1] == "/tmp/e/health_history.json"


class FakeDemo:
    def service_configs(self) -> list[dict]:
        return [{"name": "bytebot-agent", "url": "http://127.0.0.1:1/"}]


def test_demo_takes_auth_from_a_config_but_not_its_recovery_log(tmp_path, monkeypatch):
    config = tmp_path / "real.json"
    recovery = {"log_path": "/srv/real_recovery_log.jsonl", "cooldown_s": 7}
    config.write_text(json.dumps({"services": [{"name": "x", "port": 1}], "recovery": recovery}))
    monkeypatch.delenv("DASHBOARD_API_KEY", raising=False)
    settings = load(parse_args(["--demo", "--config", str(config)]), FakeDemo())
    assert [s.name for s in settings.services] == ["bytebot-agent"]
    assert settings.recovery.cooldown_s == 7 and settings.recovery.log_path is None
    real = load(parse_args(["--config", str(config)]), None)
    assert real.recovery.log_path == "/srv/real_recovery_log.jsonl"


@pytest.mark.parametrize("word", ["DASHBOARD_DATA_DIR", DEMO_DATA_DIR, "HISTORY_FILE_PATH", "LOG_FILE_PATH"])
def test_help_names_the_variables_and_the_demo_folder(word, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    assert word in capsys.readouterr().out
