"""What can be checked of the Dockerfile and the compose file without a Docker engine."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from config import load_settings
from dash_app.cli import load, parse_args
from ops import bytebot_health

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


def image_env() -> dict[str, str]:
    """The Dockerfile's ENV instructions as one dict (KEY=value pairs)."""
    return dict(pair.split("=", 1) for args in args_of("ENV") for pair in shlex.split(args))


def in_checkout(container_path: str) -> Path:
    """A path inside the image as the repository file it was COPYed from (WORKDIR is /app)."""
    workdir = args_of("WORKDIR")[-1]
    relative = Path(container_path).relative_to(workdir)
    assert any(str(relative).startswith(args.split()[-1]) for args in args_of("COPY")), f"{relative}: not COPYed"
    return ROOT / relative


def test_compose_command_requires_an_api_key_and_takes_the_config_from_the_environment(compose):
    service = compose["services"]["mission-control"]
    args = parse_args(python_command(service["command"]))
    assert args.host == "0.0.0.0" and not args.insecure  # auth, not --insecure, in a real deployment
    assert service["environment"]["DASHBOARD_API_KEY"].startswith("${DASHBOARD_API_KEY:?")
    # --config would reach the dashboard only; `docker exec ... python -m ops.bytebot_health` reads the variable
    assert args.config is None


@pytest.fixture
def container_config_path(compose, monkeypatch) -> Path:
    """HEALTH_CONFIG_PATH as the container sees it (image ENV, then compose), set to the checkout's file."""
    environment = {**image_env(), **compose["services"]["mission-control"]["environment"]}
    path = in_checkout(environment["HEALTH_CONFIG_PATH"])
    monkeypatch.setenv("HEALTH_CONFIG_PATH", str(path))
    monkeypatch.delenv("DASHBOARD_API_KEY", raising=False)
    return path


def assert_compose_hostnames(services) -> None:
    targets = {s.name: s.target for s in services}
    assert targets["bytebot-desktop"].startswith("http://bytebot-desktop:9990/")
    assert targets["bytebot-agent"].startswith("http://bytebot-agent:9991/")
    assert targets["postgres"].startswith("postgresql://postgres:5432/")
    assert all("127.0.0.1" not in target for target in targets.values())  # compose hostnames, not loopback


def test_the_dashboard_in_compose_loads_the_docker_config(compose, container_config_path):
    assert container_config_path == ROOT / "config" / "docker.health_config.json"
    args = parse_args(python_command(compose["services"]["mission-control"]["command"]))
    assert_compose_hostnames(load(args, None).services)


def test_the_one_shot_health_command_in_the_container_probes_the_same_services(container_config_path, monkeypatch):
    probed = []

    class Probed(Exception):
        pass

    def sweep(services, *_args, **_kwargs):
        probed.extend(services)
        raise Probed  # what it would probe is all this test needs; no Docker network here

    monkeypatch.setattr(bytebot_health, "sweep", sweep)
    with pytest.raises(Probed):
        bytebot_health.main([])
    assert_compose_hostnames(probed)


def test_the_image_default_config_is_the_docker_one_for_the_demo_too():
    assert image_env()["HEALTH_CONFIG_PATH"] == "/app/config/docker.health_config.json"
    assert load_settings(in_checkout(image_env()["HEALTH_CONFIG_PATH"])).services


PROXY_SETTING = "CONTAINERS=1 ALLOW_RESTARTS=1 POST=0"


def commented_proxy() -> dict:
    """The commented-out socket-proxy service of the compose file, uncommented and parsed."""
    lines = COMPOSE.read_text().splitlines()
    start = lines.index("  # docker-proxy:")
    block = []
    for line in lines[start:]:
        if not line.startswith("  #") or (block and not line.startswith("  #  ")):
            break
        block.append(line[4:])
    return yaml.safe_load("\n".join(block))["docker-proxy"]


def test_socket_proxy_allows_reading_and_restarting_containers_and_no_other_post():
    proxy = commented_proxy()
    # linuxserver's fork: its ALLOW_RESTARTS is checked before POST. In Tecnativa's image POST=0
    # refuses restarts too, and POST=1 with CONTAINERS=1 would let a caller create containers.
    assert proxy["image"].startswith("lscr.io/linuxserver/socket-proxy:")
    setting = " ".join(f"{key}={value}" for key, value in proxy["environment"].items())
    assert setting == PROXY_SETTING
    assert proxy["volumes"] == ["/var/run/docker.sock:/var/run/docker.sock:ro"]
    assert proxy["networks"] == ["docker-api"] and "bytebot" not in proxy["networks"]


def test_readme_gives_the_one_socket_proxy_setting_of_the_compose_file():
    readme = (ROOT / "README.md").read_text()
    mentioned = {m.strip() for m in re.findall(r"`((?:[A-Z_]+=\d+ ?)+)`", readme) if "POST=" in m or "CONTAINERS=" in m}
    assert mentioned == {PROXY_SETTING}
    assert "lscr.io/linuxserver/socket-proxy" in readme


def test_docker_socket_is_not_mounted_unless_the_operator_uncomments_it(compose):
    mounts = compose["services"]["mission-control"]["volumes"]
    assert not any("docker.sock" in mount for mount in mounts)
    assert "# - /var/run/docker.sock:/var/run/docker.sock" in COMPOSE.read_text()


def test_compose_passes_the_database_dsn_from_the_environment_never_a_literal(compose):
    env = compose["services"]["mission-control"]["environment"]
    settings = load_settings(in_checkout(image_env()["HEALTH_CONFIG_PATH"]))
    dsn_vars = {s.dsn_env for s in settings.services if s.type == "postgres"}
    assert dsn_vars == {"DATABASE_URL"}
    assert env["DATABASE_URL"].startswith("${DATABASE_URL:?")  # required, and taken from the operator's env
    assert "postgres:postgres@" not in COMPOSE.read_text().split("DATABASE_URL:")[1].splitlines()[0]


def test_the_shared_compose_runs_two_dashboards_over_one_history_url(monkeypatch):
    shared = yaml.safe_load((ROOT / "docker-compose.shared.yml").read_text())
    services = shared["services"]
    monkeypatch.setenv("MC_HISTORY_URL", "postgresql://postgres:postgres@postgres:5432/mission_control")
    published = set()
    for name in ("mission-control-a", "mission-control-b"):
        service = services[name]
        args = parse_args(python_command(service["command"]))
        assert args.store_env == "MC_HISTORY_URL" and args.store is None  # no password on a command line
        assert args.host == "0.0.0.0" and not args.insecure
        # The page is told the WebSocket port by its own server: the published ports are the ones it listens on.
        ports = {f"{args.port}:{args.port}", f"{args.ws_port}:{args.ws_port}"}
        assert set(service["ports"]) == ports and not ports & published
        published |= ports
        assert service["environment"]["MC_HISTORY_URL"].endswith("@postgres:5432/mission_control}")
        assert service["depends_on"]["mc-history-db"]["condition"] == "service_completed_successfully"
        health = service.get("healthcheck", {}).get("test") or args_of("HEALTHCHECK")[0]
        health_text = " ".join(health) if isinstance(health, list) else health
        assert f"127.0.0.1:{args.port}/api/health" in health_text
    creator = " ".join(services["mc-history-db"]["command"])
    assert "CREATE DATABASE mission_control" in creator and "bytebotdb" not in creator
