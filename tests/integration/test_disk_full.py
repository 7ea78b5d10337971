"""A full disk, for real (a 2 MB tmpfs): monitoring and the page go on from memory, one ERROR a
minute instead of a traceback per sweep, and writing resumes by itself, with no torn line."""

from __future__ import annotations

import errno
import json
import logging
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from callbacks.header import header_parts
from dash_app.factory import create_app
from dash_app.logs import DiskFullSafeFileHandler, json_file_handler
from ops.append_file import AppendFile, WriteHealth
from ops.recovery_log import RecoveryLog
from tests.integration.processes import AppProcess
from tests.support import Behaviour, http_service, make_settings, wait_for

FULL = "history is not being saved: disk full"
PATHS = [f"/s{i}" for i in range(5)]  # five services: a sweep's line is ~300 bytes, so the disk fills fast


class SmallDisk:
    """A mounted tmpfs that the test fills up and frees again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        """Take every byte: big chunks, then crumbs (a file's last page may still take some lines)."""
        with open(self.filler, "ab", buffering=0) as handle:
            for size in (1 << 16, 1 << 10, 1):
                try:
                    while True:
                        handle.write(b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc

    def free(self) -> None:
        self.filler.unlink()


@contextmanager
def mounted_tmpfs(mount_point: Path, size: str = "2m"):
    """A real small disk at `mount_point` for the block; a failed mount fails the test (never a skip)."""
    mount_point.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.fail(
            f"these tests need a real full disk: `mount -t tmpfs -o size={size}` failed (run them as root or "
            f"with CAP_SYS_ADMIN): {mounted.stderr.strip() or mounted.returncode}"
        )
    try:
        yield SmallDisk(mount_point)
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], check=True)  # still busy: detach, freed when closed


@pytest.fixture
def small_disk(tmp_path):
    with mounted_tmpfs(tmp_path / "disk") as disk:
        yield disk


@pytest.fixture
def app_on(http_server):
    apps = []

    def start(data_dir: Path):
        http_server.routes.update({p: Behaviour() for p in PATHS})
        services = [http_service(f"svc{i}", http_server, p) for i, p in enumerate(PATHS)]
        apps.append(create_app(make_settings(services), data_dir=data_dir, start_monitor=False))
        apps[-1].serve("127.0.0.1", 0, 0)
        return apps[-1]

    yield start
    for app in apps:
        app.stop()


def sweep_until(monitor, predicate, limit: int = 40) -> list[dict]:
    """Run sweeps until `predicate(snapshot)`; every snapshot made on the way."""
    snapshots = [monitor.run_once()]
    while not predicate(snapshots[-1]):
        assert len(snapshots) < limit, snapshots[-1]
        snapshots.append(monitor.run_once())
    return snapshots


def statuses(snapshot: dict) -> set[str]:
    return {s["status"] for s in snapshot["services"]}


def history_lines(path: Path) -> list[dict]:
    """Every line of the history file, parsed: a torn or glued line fails here."""
    data = path.read_bytes()
    assert not data or data.endswith(b"\n")
    return [json.loads(line) for line in data.splitlines()]


def test_monitoring_goes_on_while_the_disk_is_full_and_writing_resumes(small_disk, app_on, http_server, caplog):
    app = app_on(small_disk.path)
    monitor, history = app.core.monitor, small_disk.path / "health_history.json"
    assert monitor.run_once()["storage"] == {"ok": True, "error": None, "since": None, "unsaved_sweeps": 0}
    small_disk.fill()
    with caplog.at_level(logging.INFO):
        filled = sweep_until(monitor, lambda s: not s["storage"]["ok"])  # the file's last page took a few more
        for path in PATHS:
            http_server.routes[path] = Behaviour(status=500)
        failing = sweep_until(monitor, lambda s: statuses(s) == {"down"})
        for path in PATHS:
            http_server.routes[path] = Behaviour()
        healed = sweep_until(monitor, lambda s: statuses(s) == {"up"})
        snapshot = healed[-1]
        storage = snapshot["storage"]
        assert storage["ok"] is False and storage["error"] == FULL and storage["since"]
        # Every sweep while full says so (the rollup files once cleared the history's error between two).
        assert [s["storage"]["error"] for s in failing + healed] == [FULL] * len(failing + healed)
        assert storage["unsaved_sweeps"] >= len(failing) + len(healed)
        assert [s["sweep"] for s in failing + healed] == list(range(failing[0]["sweep"], snapshot["sweep"] + 1))
        assert requests.get(f"http://127.0.0.1:{app.http.port}/api/health", timeout=5).json()["storage"] == storage
        banner = header_parts(snapshot, None, monitor.interval)[2]
        assert FULL.capitalize() in str(banner)
        said = [r for r in caplog.records if FULL in r.getMessage()]
        assert len(said) == 1 and said[0].levelno == logging.ERROR, [r.getMessage() for r in said]
        assert not [r for r in caplog.records if r.exc_info], "no tracebacks"
        held = storage["unsaved_sweeps"]
        small_disk.free()
        resumed = monitor.run_once()
    assert resumed["storage"]["ok"] is True and resumed["storage"]["unsaved_sweeps"] == 0
    assert f"history is being saved again ({held + 1} held line(s) written)" in caplog.text
    lines = history_lines(history)
    assert len(lines) == resumed["sweep"] == 1 + len(filled) + len(failing) + len(healed) + 1
    assert [row[1] for row in lines[-1]["rows"]] == ["u"] * len(PATHS)
    assert len(app.core.store) == len(lines) * len(PATHS)


def test_recovery_log_append_never_raises_on_a_full_disk_and_writes_held_entries_later(small_disk, caplog):
    log = RecoveryLog(small_disk.path / "recovery_log.jsonl")
    log.load()
    small_disk.fill()
    with caplog.at_level(logging.INFO):
        for i in range(100):  # the file's last page takes some, then every append fails
            log.append({"id": f"r{i}", "service": "web", "outcome": "running", "output_tail": "x" * 200})
            log.update({"id": f"r{i}", "service": "web", "outcome": "recovered", "output_tail": "x" * 200})
        assert log.storage_status()["ok"] is False
        assert [e["id"] for e in log.recent(limit=3)] == ["r99", "r98", "r97"]
        assert len([r for r in caplog.records if "recovery log is not being saved" in r.getMessage()]) == 1
        small_disk.free()
        log.append({"id": "after", "service": "web", "outcome": "recovered"})
    assert log.storage_status()["ok"] is True and "recovery log is being saved again" in caplog.text
    lines = [json.loads(line) for line in (small_disk.path / "recovery_log.jsonl").read_bytes().splitlines()]
    assert len(lines) == 201 and lines[-1]["id"] == "after"
    again = RecoveryLog(small_disk.path / "recovery_log.jsonl")
    assert again.load() == 201 and not list(small_disk.path.glob("*.corrupt-*"))


def test_log_file_on_a_full_disk_drops_records_quietly_and_never_tears_a_line(small_disk, capsys):
    path = small_disk.path / "dashboard.log"
    handler = json_file_handler(path)  # what `python -m dash_app` should log to (dash_app/cli.py)
    assert isinstance(handler, DiskFullSafeFileHandler)
    logger = logging.getLogger("tests.disk_full.log_file")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("before")
        small_disk.fill()
        for i in range(500):
            logger.warning("record %d %s", i, "y" * 150)
        stderr = capsys.readouterr().err
        assert "Logging error" not in stderr and "Traceback" not in stderr, stderr[:2000]
        assert stderr.count("is not being written: disk full") == 1, stderr
        records = [json.loads(line) for line in path.read_bytes().splitlines()]
        assert records[0]["message"] == "before" and path.read_bytes().endswith(b"\n")
        small_disk.free()
        logger.warning("after")
        assert "is being written again" in capsys.readouterr().err
        assert json.loads(path.read_bytes().splitlines()[-1])["message"] == "after"
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_the_cli_starts_on_an_already_full_disk_and_catches_up_when_space_frees(small_disk, tmp_path, http_server):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"services": [{"name": "web", "url": http_server.url()}], "interval_s": 0.2}))
    small_disk.fill()
    # The data dir by variable, so LOG_FILE_PATH applies (--data-dir would put the log there too): the
    # log file's own full-disk handling is tested above, with the handler `dash_app.logs.json_file_handler`.
    env = {"DASHBOARD_DATA_DIR": str(small_disk.path), "LOG_FILE_PATH": str(tmp_path / "app.log")}
    app = AppProcess("--config", str(config), env=env)
    try:
        app.wait_ports()
        health = lambda: requests.get(app.base + "/api/health", timeout=5).json()  # noqa: E731
        wait_for(lambda: health()["sweep"] >= 10, message="ten sweeps on a full disk")
        assert health()["storage"]["error"] == FULL and health()["services"][0]["status"] == "up"
        assert requests.get(app.base + "/", timeout=5).status_code == 200
        small_disk.free()
        wait_for(lambda: health()["storage"]["ok"], message="writing to resume")
        sweeps = health()["sweep"]
        app.proc.send_signal(signal.SIGTERM)
        assert app.wait(10) == 0
    finally:
        app.kill()
    stderr = "\n".join(app.lines)
    assert "Traceback" not in stderr and "Logging error" not in stderr, stderr
    assert stderr.count(FULL) == 1, stderr
    assert "cannot save the session key" in stderr and " WARNING " in stderr
    assert len(history_lines(small_disk.path / "health_history.json")) >= sweeps


def test_lines_held_for_a_full_disk_are_bounded_oldest_given_up_first(small_disk, caplog):
    health = WriteHealth("test file", logging.getLogger("tests.disk_full.bound"))
    out = AppendFile(small_disk.path / "lines", health, max_held_bytes=1000)
    out.open()
    small_disk.fill()
    lines = [f"{i:05d} {'z' * 93}\n".encode() for i in range(100)]  # 100 bytes each
    caplog.set_level(logging.WARNING)
    for line in lines:
        out.append(line)
    assert out.held == 10 and out.dropped > 0
    assert caplog.text.count("the oldest lines are given up") == 1
    small_disk.free()
    assert out.append(b"last\n") and out.held == 0  # 1005 bytes held with it: one more given up first
    written = (small_disk.path / "lines").read_bytes().splitlines(keepends=True)
    assert written == [*lines[-9:], b"last\n"]  # the newest ones, in order, none torn
    assert out.dropped == 91 and "being saved again (10 held line(s) written)" in caplog.text
    out.close()


def test_a_damaged_history_on_an_already_full_disk_starts_and_is_repaired_at_a_later_start(small_disk, app_on, caplog):
    from tests.integration.test_damaged_files import sweep  # one sweep line for "web", minutes ago

    history = small_disk.path / "health_history.json"
    good = [sweep(3), sweep(2)]
    history.write_bytes(good[0] + b"{not json\n" + good[1] + sweep(1)[:20])  # a bad line and a torn tail
    small_disk.fill()
    with caplog.at_level(logging.WARNING):
        app = app_on(small_disk.path)
    assert "1 unreadable line(s) left in place (disk full)" in caplog.text
    assert "dropped a partial last line" in caplog.text
    assert len(app.core.store) == 2
    assert not app.core.monitor.run_once()["storage"]["ok"] or history.stat().st_size > 0
    small_disk.free()
    assert app.core.monitor.run_once()["storage"]["ok"]
    app.stop()
    with caplog.at_level(logging.WARNING):
        again = app_on(small_disk.path)
    assert "has 1 unreadable line(s)" in caplog.text and list(small_disk.path.glob("*.corrupt-*"))
    assert len(again.core.store) == 2 + 2 * len(PATHS)
    assert len(history_lines(history)) == 4


def test_a_damaged_recovery_log_on_a_full_disk_is_kept_as_is_and_repaired_later(small_disk, caplog):
    from tests.integration.test_damaged_files import NESTED, entry

    path = small_disk.path / "recovery_log.jsonl"
    path.write_bytes(entry(1) + NESTED + entry(2) + entry(3)[:25])  # a nested line and a torn tail
    small_disk.fill()
    caplog.set_level(logging.WARNING)
    log = RecoveryLog(path)
    assert log.load() == 2 and "2 unreadable line(s) left in place (disk full)" in caplog.text
    log.append({"id": "during", "service": "web", "outcome": "running"})  # held: never raises
    small_disk.free()
    log.append({"id": "after", "service": "web", "outcome": "recovered"})
    again = RecoveryLog(path)
    assert again.load() == 4 and "2 unreadable line(s); original moved to" in caplog.text
    assert [e["id"] for e in again.recent()] == ["after", "during", "e2", "e1"]  # the torn piece ended, not glued
