"""The run interface as operators and tools use it: one process, flags, variables, signals, exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.integration.processes import ROOT, AppProcess
from tests.support import free_port, wait_for


@pytest.fixture
def procs():
    started: list[AppProcess] = []

    def start(*args, env=None) -> AppProcess:
        started.append(AppProcess(*args, env=env))
        return started[-1]

    yield start
    for proc in started:
        proc.kill()


def config_file(tmp_path, services, **top):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"services": services, **top}))
    return str(path)


def test_serves_logs_ports_and_stops_cleanly_on_sigterm(procs, tmp_path, http_server):
    config = config_file(tmp_path, [{"name": "web", "url": http_server.url()}], interval_s=0.3)
    app = procs("--config", config, "--data-dir", str(tmp_path / "data"))
    app.wait_ports()
    wait_for(lambda: requests.get(app.base + "/api/loop-status", timeout=2).json()["sweeps"] >= 2, message="sweeps")
    began = time.monotonic()
    app.proc.send_signal(signal.SIGTERM)
    assert app.wait(10) == 0
    assert time.monotonic() - began < 5
    history = (tmp_path / "data" / "health_history.json").read_text().splitlines()
    assert len(history) >= 2 and all(json.loads(line)["rows"][0][0] == "web" for line in history)
    assert (tmp_path / "data" / "dashboard.log").read_text().count("WebSocket on ws://") == 1


def test_sigint_also_stops_with_exit_0(procs, tmp_path, http_server):
    app = procs(
        "--config", config_file(tmp_path, [{"name": "web", "url": http_server.url()}]), "--data-dir", str(tmp_path)
    )
    app.wait_ports()
    app.proc.send_signal(signal.SIGINT)
    assert app.wait(10) == 0


def test_environment_variables_place_history_and_log_and_flags_win(procs, tmp_path, http_server):
    config = config_file(tmp_path, [{"name": "web", "url": http_server.url()}], interval_s=0.3)
    env = {
        "HEALTH_CONFIG_PATH": config,
        "DASHBOARD_DATA_DIR": str(tmp_path / "data"),  # the rest (state, session key) stays out of data/
        "HISTORY_FILE_PATH": str(tmp_path / "h.json"),
        "LOG_FILE_PATH": str(tmp_path / "app.log"),
    }
    app = procs("--interval", "0.2", env=env)
    app.wait_ports()
    wait_for(lambda: (tmp_path / "h.json").exists() and (tmp_path / "h.json").read_text(), message="history")
    assert requests.get(app.base + "/api/loop-status", timeout=2).json()["interval_s"] == 0.2
    app.proc.send_signal(signal.SIGTERM)
    assert app.wait(10) == 0
    assert "WebSocket on ws://" in (tmp_path / "app.log").read_text()
    assert (tmp_path / "data" / "session_secret").exists()
    assert not (tmp_path / "data" / "health_history.json").exists()  # HISTORY_FILE_PATH won


def test_demo_keeps_its_own_data_dir_and_ignores_the_deployments_file_variables(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HISTORY_FILE_PATH": str(tmp_path / "real-history.json")}
    env.pop("DASHBOARD_DATA_DIR", None)  # the default, as `make demo` runs it (cwd is a scratch checkout)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dash_app", "--demo", "--port", "0", "--ws-port", "0", "--interval", "0.5"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        history = tmp_path / "data" / "demo" / "health_history.json"
        wait_for(lambda: history.exists() and history.read_text(), timeout=30, message="the demo's history")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["demo"]
    assert {"dashboard.log", "session_secret"} <= {p.name for p in (tmp_path / "data" / "demo").iterdir()}
    assert not (tmp_path / "real-history.json").exists()


def test_port_in_use_is_one_clear_line_and_exit_1(procs, tmp_path, http_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = config_file(tmp_path, [{"name": "web", "url": http_server.url()}])
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "dash_app",
                "--config",
                config,
                "--port",
                str(port),
                "--ws-port",
                "0",
                "--data-dir",
                str(tmp_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: cannot listen for HTTP on 127.0.0.1:{port}: it is already in use"]
    assert "Traceback" not in result.stderr


def test_malformed_config_names_file_and_field_and_exits_2(tmp_path):
    config = config_file(tmp_path, [{"name": "web", "port": 99999}])
    result = subprocess.run(
        [sys.executable, "-m", "dash_app", "--config", config, "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"{config}: services[0].port: Input should be less than or equal to 65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_shot_health_command_exit_codes_and_json(tmp_path, http_server, tcp_server):
    good = config_file(
        tmp_path, [{"name": "web", "url": http_server.url()}, {"name": "db", "type": "tcp", "port": tcp_server.port}]
    )
    run = subprocess.run(
        [sys.executable, "-m", "ops.bytebot_health", "--config", good, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["healthy"] and [s["status"] for s in body["services"]] == ["up", "up"]
    bad = config_file(
        tmp_path, [{"name": "web", "url": http_server.url()}, {"name": "db", "type": "tcp", "port": free_port()}]
    )
    run = subprocess.run(
        [sys.executable, "-m", "ops.bytebot_health", "--config", bad],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 1 and "connection refused" in run.stdout and "db" in run.stdout
