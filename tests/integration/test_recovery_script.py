"""ops/recover_bytebot.sh: one service restarted (proved with a fake `docker` first on PATH), unknown names refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import load_settings
from config.loader import DEFAULT_CONFIG_PATH
from tests.integration.recovery_support import make_core, wait_finished
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "recover_bytebot.sh"

# A stand-in docker CLI: appends its argv as one JSON line, then exits with $FAKE_DOCKER_EXIT.
FAKE_DOCKER = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(int(os.environ.get("FAKE_DOCKER_EXIT", "0")))
"""


@pytest.fixture
def fake_docker(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    log = tmp_path / "docker_calls.jsonl"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DOCKER_LOG": str(log),
        "HOME": str(tmp_path),
    }

    def run(*args: str, **extra: str) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
        proc = subprocess.run(
            [str(SCRIPT), *args], env={**env, **extra}, capture_output=True, text=True, timeout=30, check=False
        )
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        log.unlink(missing_ok=True)
        return proc, calls

    return run


def test_the_script_parses_with_bash_n():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True, timeout=30)
    assert os.access(SCRIPT, os.X_OK)


@pytest.mark.parametrize("name", ["nope", "x; rm -rf /", "$(id)", "all", "bytebot", ""])
def test_an_unknown_name_exits_2_with_a_clear_message_and_runs_no_docker(fake_docker, name):
    proc, calls = fake_docker(name)
    assert proc.returncode == 2
    assert "unknown service" in proc.stderr and "nothing restarted" in proc.stderr
    assert calls == []


def test_no_argument_or_two_arguments_is_a_usage_error(fake_docker):
    for args in ((), ("bytebot-ui", "bytebot-agent")):
        proc, calls = fake_docker(*args)
        assert proc.returncode == 2 and "usage" in proc.stderr and calls == []


@pytest.mark.parametrize(
    ("name", "container"),
    [
        ("bytebot-desktop", "bytebot-desktop"),
        ("bytebot-agent", "bytebot-agent"),
        ("bytebot-ui", "bytebot-ui"),
        ("postgres", "bytebot-postgres"),
        ("llm-proxy", "bytebot-llm-proxy"),
    ],
)
def test_container_mode_restarts_exactly_one_named_container(fake_docker, name, container):
    proc, calls = fake_docker(name)
    assert proc.returncode == 0, proc.stderr
    assert calls == [["restart", "-t", "10", container]]


def test_compose_mode_restarts_exactly_one_compose_service(fake_docker, tmp_path):
    compose = str(tmp_path / "docker-compose.yml")
    proc, calls = fake_docker("postgres", BYTEBOT_COMPOSE_FILE=compose, BYTEBOT_COMPOSE_PROJECT="bytebot")
    assert proc.returncode == 0, proc.stderr
    assert calls == [["compose", "-f", compose, "-p", "bytebot", "restart", "-t", "10", "postgres"]]


def test_docker_failure_is_passed_on_as_the_exit_code(fake_docker):
    proc, calls = fake_docker("bytebot-agent", FAKE_DOCKER_EXIT="1", BYTEBOT_STOP_TIMEOUT="3")
    assert proc.returncode == 1 and calls == [["restart", "-t", "3", "bytebot-agent"]]


def test_bad_settings_are_refused_before_docker_runs(fake_docker):
    for extra in ({"BYTEBOT_STOP_TIMEOUT": "10; reboot"}, {"BYTEBOT_RECOVER_MODE": "all"}):
        proc, calls = fake_docker("bytebot-ui", **extra)
        assert proc.returncode == 2 and calls == []


def test_the_engine_runs_the_shipped_command_for_exactly_the_failed_service(tmp_path, monkeypatch):
    """config/health_config.json's own argv, end to end: engine -> recover_bytebot.sh -> docker."""
    shipped = next(s for s in load_settings(DEFAULT_CONFIG_PATH).services if s.name == "postgres")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(calls))
    monkeypatch.delenv("BYTEBOT_COMPOSE_FILE", raising=False)
    recovery = shipped.recovery.model_dump()
    services = [
        {"name": n, "type": "tcp", "port": free_port(), "recovery": recovery} for n in ("postgres", "bytebot-ui")
    ]
    core = make_core(tmp_path / "data", services, recovery={"verify_timeout_s": 0.2})
    try:
        core.recovery.request_manual("postgres")
        done = wait_finished(core, "postgres")
        assert done["exit_code"] == 0 and done["outcome"] == "still_down"  # restarted; nothing listens here
        assert [json.loads(line) for line in calls.read_text().splitlines()] == [
            ["restart", "-t", "10", "bytebot-postgres"]
        ]
    finally:
        core.stop()
