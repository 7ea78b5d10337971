"""SIGKILL at any moment never leaves a history file that fails to load."""

from __future__ import annotations

import json
import logging
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta

import requests

from ops.history.embedded import EmbeddedStore
from tests.integration.processes import ROOT, AppProcess
from tests.support import wait_for

WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from ops.probes import ProbeResult
from ops.history.embedded import EmbeddedStore
store = EmbeddedStore(sys.argv[1], timedelta(days=7))
store.load()
print("ready", flush=True)
while True:
    now = datetime.now(UTC)
    store.append(now, [ProbeResult(f"svc-{i}", i % 7 != 0, 12.5, 200, None, now, "up") for i in range(50)])
"""


def load_cleanly(path, caplog) -> int:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ops.history"):
        store = EmbeddedStore(path, timedelta(days=7))
        rows = store.load()
        store.close()
    assert "unreadable" not in caplog.text, caplog.text
    assert not list(path.parent.glob("*.corrupt-*"))
    return rows


def test_store_survives_repeated_sigkill_mid_write(tmp_path, caplog):
    path = tmp_path / "h.json"
    rng = random.Random(7)
    rows_before = 0
    for _ in range(15):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.15))
        writer.send_signal(signal.SIGKILL)
        writer.wait(5)
        rows = load_cleanly(path, caplog)
        assert rows >= rows_before and rows % 50 == 0  # whole sweeps only, nothing earlier lost
        rows_before = rows
    assert rows_before > 0


def test_app_restarts_cleanly_after_sigkill(tmp_path, caplog, http_server):
    config = tmp_path / "cfg.json"
    services = [{"name": f"svc-{i}", "url": http_server.url(), "timeout_s": 1} for i in range(50)]
    config.write_text(json.dumps({"services": services, "interval_s": 0.2}))
    data = tmp_path / "data"
    for _ in range(4):
        app = AppProcess("--config", str(config), "--data-dir", str(data))
        try:
            app.wait_ports()
            wait_for(
                lambda a=app: requests.get(a.base + "/api/loop-status", timeout=2).json()["sweeps"] >= 3,
                timeout=20,
                message="three sweeps",
            )
            snapshot = requests.get(app.base + "/api/health", timeout=2).json()
            assert snapshot["services"][0]["uptime"]["1h"] == 100.0
        finally:
            app.proc.send_signal(signal.SIGKILL)
            app.wait(5)
        load_cleanly(data / "health_history.json", caplog)
