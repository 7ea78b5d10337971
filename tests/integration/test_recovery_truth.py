"""A "recovered" that is true and attempts that always end: real servers, real commands, real files."""

from __future__ import annotations

import logging
import sys
import time

import pytest

from tests.integration.recovery_support import ChildServer, make_core, wait_finished
from tests.servers.drip import DripServer
from tests.support import free_port

OK_COMMAND = [sys.executable, "-c", "pass"]


@pytest.fixture
def core_for(tmp_path):
    made = []

    def make(services, **top):
        made.append(make_core(tmp_path, services, **top))
        return made[-1]

    yield make
    for core in made:
        core.stop()


def http_svc(url: str, recovery: dict | None = None, **fields) -> dict:
    recovery = recovery or {"action": "command", "command": OK_COMMAND, "timeout_s": 5}
    return {"name": "svc", "url": url, "timeout_s": 0.5, "recovery": recovery, **fields}


def test_verification_needs_success_threshold_passes_in_a_row(core_for):
    flaky = ChildServer(fail_every=2)  # 200, 503, 200, 503, ...: never two passes in a row
    try:
        url = f"http://127.0.0.1:{flaky.port}/"
        strict = core_for([http_svc(url, success_threshold=2)], recovery={"verify_timeout_s": 1.0})
        strict.recovery.request_manual("svc")
        assert wait_finished(strict, "svc")["outcome"] == "still_down"
        strict.stop()
        lenient = core_for([http_svc(url, success_threshold=1)], recovery={"verify_timeout_s": 1.0})
        lenient.recovery.request_manual("svc")
        assert wait_finished(lenient, "svc")["outcome"] == "recovered"
    finally:
        flaky.close()


def test_verification_against_a_dripping_service_ends_on_time_and_frees_the_slot(core_for):
    drip = DripServer(mode="body", every_s=0.05)
    try:
        service = http_svc(drip.url(), expect_body="noVNC", recovery={"action": "command", "command": OK_COMMAND})
        core = core_for([service], recovery={"verify_timeout_s": 1.0, "max_concurrent": 1})
        began = time.monotonic()
        core.recovery.request_manual("svc")
        entry = wait_finished(core, "svc", timeout=20)
        took = time.monotonic() - began
        assert entry["outcome"] == "still_down"
        assert took < 1.0 + 2.0  # the verify timeout plus a grace; forever before
        assert core.recovery.overview()["running"] == 0
        core.recovery.request_manual("svc")  # the slot is free again: no 409
    finally:
        drip.close()


def test_an_http_action_whose_webhook_drips_times_out(core_for):
    drip = DripServer(mode="body", every_s=0.05)
    try:
        webhook = {"action": "http", "url": drip.url("/restart"), "timeout_s": 1.0}
        core = core_for([http_svc(f"http://127.0.0.1:{free_port()}/", webhook)], recovery={"max_concurrent": 1})
        began = time.monotonic()
        core.recovery.request_manual("svc")
        entry = wait_finished(core, "svc", timeout=20)
        assert entry["outcome"] == "timed_out" and "within 1s" in entry["error"]
        assert time.monotonic() - began < 1.0 + 2.0
        assert core.recovery.overview()["running"] == 0
    finally:
        drip.close()


def test_an_unwritable_recovery_log_never_wedges_the_running_marker_or_the_slot(core_for, tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log's folder should be")
    service = http_svc(f"http://127.0.0.1:{free_port()}/", {"action": "command", "command": OK_COMMAND})
    core = core_for([service], recovery={"log_path": str(blocker / "log.jsonl"), "max_concurrent": 1})
    for _ in range(2):  # the second would be 409 already_running/concurrency if the first wedged
        core.recovery.request_manual("svc")
        assert wait_finished(core, "svc")["outcome"] == "still_down"
    status = core.recovery.status("svc")
    assert status["current_id"] is None and core.recovery.overview()["running"] == 0


def test_a_failed_recovery_logs_a_warning_in_the_actions_own_words(core_for, caplog):
    says = "Error response from daemon: No such container: bytebot-agent"
    argv = [sys.executable, "-c", f"import sys; print({says!r}, file=sys.stderr); sys.exit(1)"]
    core = core_for([http_svc(f"http://127.0.0.1:{free_port()}/", {"action": "command", "command": argv})])
    with caplog.at_level(logging.WARNING, logger="ops.recovery.engine"):
        core.recovery.request_manual("svc")
        entry = wait_finished(core, "svc")
    assert entry["outcome"] == "action_failed" and entry["error"] == f"exit code 1: {says}"
    assert any(r.levelno == logging.WARNING and says in r.getMessage() for r in caplog.records)


def test_with_the_circuit_open_there_is_no_next_automatic_time(core_for):
    argv = [sys.executable, "-c", "raise SystemExit(1)"]
    core = core_for(
        [http_svc(f"http://127.0.0.1:{free_port()}/", {"action": "command", "command": argv})],
        recovery={"max_attempts": 2, "cooldown_s": 60, "backoff_max_s": 60},
    )
    for _ in range(2):
        core.recovery.request_manual("svc", force=True)
        wait_finished(core, "svc")
    status = core.recovery.status("svc")
    assert status["needs_attention"] is True and status["failed_attempts"] == 2
    assert status["next_auto_after"] is None  # nothing will happen by itself: a person must act


def test_a_recovery_command_never_sees_the_database_password(core_for, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:hunter2@postgres:5432/bytebotdb")
    monkeypatch.setenv("OTHER_DB", "postgres://app:hunter2@db/app")
    argv = [sys.executable, "-c", "import os; print(dict(os.environ))"]
    core = core_for([http_svc(f"http://127.0.0.1:{free_port()}/", {"action": "command", "command": argv})])
    core.recovery.request_manual("svc")
    entry = wait_finished(core, "svc")
    assert "MC_SERVICE" in entry["output_tail"] and "hunter2" not in entry["output_tail"]
