"""What can be checked of the Dockerfile and the compose file without a Docker engine."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from config import load_settings
from dash_app.cli import parse_args

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.dashboard.yml"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        current += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            joined.append(current)
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in joined]


def args_of(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


def python_command(argv: list[str]) -> list[str]:
    """`python -m dash_app ...` -> the module's arguments, after checking the module exists."""
    assert argv[:2] == ["python", "-m"], argv
    assert importlib.util.find_spec(argv[2]) is not None, f"no module {argv[2]}"
    return argv[3:]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_slim_python_base_and_a_non_root_user_before_the_command():
    assert args_of("FROM") == ["python:3.11-slim"]
    names = [name for name, _ in instructions()]
    assert args_of("USER") and args_of("USER")[-1] not in ("root", "0")
    assert names.index("USER") < names.index("CMD")


def test_every_copy_source_exists_and_is_not_docker_ignored():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "data", "tests"} <= ignored
    for args in args_of("COPY"):
        *sources, _dest = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source.rstrip("/") not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_dependencies_come_from_the_pinned_requirements():
    assert any("pip install" in run and "-r requirements.txt" in run for run in args_of("RUN"))
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    assert pins and all("==" in pin for pin in pins)


def test_default_command_is_the_demo_on_all_interfaces_with_flags_the_cli_accepts():
    argv = json.loads(args_of("CMD")[-1])
    args = parse_args(python_command(argv))
    assert args.demo and args.host == "0.0.0.0" and args.insecure
    assert {int(port) for port in args_of("EXPOSE")[-1].split()} == {args.port, args.ws_port} == {9993, 9994}


def test_healthcheck_is_curl_free_python_against_the_api_health_endpoint():
    options, _, command = args_of("HEALTHCHECK")[-1].partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<healthcheck>", "exec")  # valid Python
    assert "http://127.0.0.1:9993/api/health" in argv[2]


def test_compose_maps_both_ports_and_keeps_the_data_dir_on_a_named_volume(compose):
    service = compose["services"]["mission-control"]
    assert service["build"] == "." and (ROOT / "Dockerfile").exists()
    assert service["ports"] == ["9993:9993", "9994:9994"]
    volume, _, target = service["volumes"][0].partition(":")
    assert target == "/app/data" and volume in compose["volumes"]
    assert service["environment"]["LOG_FILE_PATH"].startswith("/app/data/")


def test_compose_joins_the_bytebot_network_as_an_external_one(compose):
    network = compose["networks"]["bytebot"]
    assert network["external"] is True and "BYTEBOT_NETWORK" in network["name"]
    assert compose["services"]["mission-control"]["networks"] == ["bytebot"]


def test_compose_command_loads_the_docker_config_and_requires_an_api_key(compose):
    service = compose["services"]["mission-control"]
    args = parse_args(python_command(service["command"]))
    assert args.host == "0.0.0.0" and not args.insecure  # auth, not --insecure, in a real deployment
    assert service["environment"]["DASHBOARD_API_KEY"].startswith("${DASHBOARD_API_KEY:?")
    settings = load_settings(ROOT / args.config)
    targets = {s.name: s.target for s in settings.services}
    assert targets["bytebot-desktop"].startswith("http://bytebot-desktop:9990/")
    assert targets["bytebot-agent"].startswith("http://bytebot-agent:9991/")
    assert targets["postgres"] == "postgres:5432"
    assert all("127.0.0.1" not in target for target in targets.values())  # compose hostnames, not loopback


def test_docker_socket_is_not_mounted_unless_the_operator_uncomments_it(compose):
    mounts = compose["services"]["mission-control"]["volumes"]
    assert not any("docker.sock" in mount for mount in mounts)
    assert "# - /var/run/docker.sock:/var/run/docker.sock" in COMPOSE.read_text()
