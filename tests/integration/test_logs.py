"""The log file at LOG_FILE_PATH holds JSON lines; stderr stays readable by a person."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading

import requests

from dash_app.logs import JsonFormatter
from tests.integration.processes import PORTS_RE, ROOT
from tests.support import wait_for


def start_app(tmp_path, config, log_path) -> tuple[subprocess.Popen, list[str]]:
    """The app in its own process, run from tmp_path so nothing lands in the project's data/."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOG_FILE_PATH": str(log_path),
        "HISTORY_FILE_PATH": str(tmp_path / "h.json"),
    }
    argv = [sys.executable, "-m", "dash_app", "--config", str(config), "--port", "0", "--ws-port", "0"]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in proc.stderr), daemon=True).start()
    return proc, lines


def test_log_file_is_json_lines_and_stderr_is_plain_text(tmp_path, http_server):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"services": [{"name": "web", "url": http_server.url()}], "interval_s": 0.2}))
    log_path = tmp_path / "logs" / "mc.log"
    proc, stderr = start_app(tmp_path, config, log_path)
    try:
        match = wait_for(lambda: next(filter(None, map(PORTS_RE.search, list(stderr))), None), 30, message="ports")
        base = f"http://127.0.0.1:{match[1]}"
        wait_for(lambda: requests.get(base + "/api/loop-status", timeout=2).json()["sweeps"] >= 2, message="sweeps")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    records = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    bound = [r for r in records if "WebSocket on ws://" in r["message"]]
    assert len(bound) == 1 and bound[0]["level"] == "INFO" and bound[0]["logger"] == "dash_app.factory"
    assert bound[0]["time"].endswith("+00:00")
    assert any(r["message"] == "stopping" for r in records)
    plain = next(line for line in stderr if "WebSocket on ws://" in line)
    assert " INFO dash_app.factory: dashboard and API on http://" in plain and not plain.startswith("{")


def test_extra_fields_and_exceptions_become_json_fields():
    logger = logging.getLogger("mc.test")
    record = logger.makeRecord("mc.test", logging.ERROR, __file__, 1, "probe of %s failed", ("web",), None)
    record.service, record.attempt, record.when = "web", 2, object()  # as `extra=` would set them
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line  # one record, one line, whatever the message or traceback holds
    entry = json.loads(line)
    assert entry["message"] == "probe of web failed" and entry["level"] == "ERROR" and entry["logger"] == "mc.test"
    assert entry["service"] == "web" and entry["attempt"] == 2 and entry["when"].startswith("<object")
    assert "ValueError: boom" in entry["exc_info"]
    assert "args" not in entry and "msg" not in entry and "levelno" not in entry
