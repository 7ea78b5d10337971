"""The postgres check against a real PostgreSQL in the states where a TCP connect still says "up"."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from config import settings_from_dict
from ops.probe_postgres import select_one
from ops.probes import Prober
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Sup3r-s3cret-pw"  # distinctive, so finding it anywhere in output is unambiguous


def service(cluster, *, kind: str = "postgres", timeout_s: float = 3.0, **extra):
    config = {"name": "db", "type": kind, "port": cluster.port, "timeout_s": timeout_s, **extra}
    return settings_from_dict({"services": [config]}, "test").services[0]


@pytest.fixture
def check(monkeypatch):
    """check(cluster, dsn=None, **service_fields) -> (postgres result, tcp result) in the same state."""
    prober = Prober()

    def run(cluster, dsn: str | None = None, **extra):
        monkeypatch.setenv("DATABASE_URL", dsn or cluster.dsn())
        return prober.check(service(cluster, **extra)), prober.check(service(cluster, kind="tcp"))

    yield run
    prober.close()


def test_a_healthy_server_passes_with_its_latency(pg_cluster, check):
    cluster = pg_cluster()
    result, tcp = check(cluster)
    assert result.ok and result.error is None and tcp.ok
    assert result.latency_ms is not None and 0 < result.latency_ms < 3000
    assert service(cluster).target == f"postgresql://127.0.0.1:{cluster.port}/postgres"  # no user, no password


def test_a_frozen_postmaster_is_a_timeout_though_tcp_connects(pg_cluster, check):
    cluster = pg_cluster()
    cluster.signal(signal.SIGSTOP)
    try:
        result, tcp = check(cluster, timeout_s=0.5)  # below libpq's 2 s minimum connect_timeout
    finally:
        cluster.signal(signal.SIGCONT)
    assert not result.ok and result.error == "timeout after 0.5s"
    assert 500 <= result.latency_ms < 1500  # the check's own deadline, not libpq's 2 s
    assert tcp.ok  # the kernel completes the handshake for a stopped process
    cluster.wait_ready()


def test_exhausted_connection_slots_are_too_many_clients(pg_cluster, check):
    cluster = pg_cluster(max_connections=3, superuser_reserved_connections=0)
    held = []
    try:
        while len(held) < 10:
            held.append(cluster.admin())
    except Exception:  # noqa: BLE001 - the slot that was refused: all are taken now
        pass
    try:
        assert 1 <= len(held) <= 3
        result, tcp = check(cluster)
    finally:
        for conn in held:
            conn.close()
    assert not result.ok and result.error == "too many clients"
    assert tcp.ok


def test_pg_hba_rejecting_the_client_is_an_authentication_failure(pg_cluster, check):
    cluster = pg_cluster()
    cluster.write_hba("host all all 127.0.0.1/32 reject")
    cluster.reload()
    result = wait_for(lambda: (r := check(cluster))[0].error and r, 10, message="the reload to take effect")
    assert not result[0].ok and result[0].error == "authentication rejected (pg_hba.conf / password)"
    assert result[1].ok


def test_a_wrong_password_is_an_authentication_failure(pg_cluster, check):
    cluster = pg_cluster()
    result, tcp = check(cluster, dsn=cluster.dsn(password=SECRET))
    assert not result.ok and result.error == "authentication rejected (pg_hba.conf / password)"
    assert tcp.ok and SECRET not in json.dumps(result.as_dict()) and SECRET not in repr(result)


def test_a_smart_shutdown_waiting_for_a_session_is_shutting_down(pg_cluster, check):
    cluster = pg_cluster()
    session = cluster.admin()
    try:
        cluster.run("pg_ctl", "stop", "-D", cluster.data, "-m", "smart", "-W")
        result = wait_for(lambda: (r := check(cluster))[0].error and r, 10, message="the shutdown to begin")
        assert not result[0].ok and result[0].error == "shutting down"
        assert result[1].ok
        assert session.execute("SELECT 1").fetchone() == (1,)  # the open session is still served
    finally:
        session.close()


def test_a_standby_that_accepts_no_connections_is_starting_up(pg_cluster, check):
    cluster = pg_cluster(start=False)
    cluster.make_standby()  # no primary and hot_standby off: "not accepting connections" for good
    cluster.start()
    result, tcp = check(cluster)
    assert not result.ok and result.error == "starting up (not accepting connections yet)"
    assert tcp.ok


def test_a_missing_environment_variable_is_a_failed_check_naming_it(pg_cluster, check, monkeypatch):
    cluster = pg_cluster(start=False)
    prober = Prober()
    try:
        monkeypatch.delenv("BYTEBOT_DB_URL", raising=False)
        result = prober.check(service(cluster, dsn_env="BYTEBOT_DB_URL"))
    finally:
        prober.close()
    assert not result.ok and result.error == "BYTEBOT_DB_URL is not set"


def test_a_stopped_server_is_connection_refused(pg_cluster, check):
    cluster = pg_cluster(start=False)
    result, tcp = check(cluster)
    assert result.error == "connection refused" and tcp.error == "connection refused"


def test_the_password_is_in_no_result_and_no_log_record(pg_cluster, check, caplog):
    cluster = pg_cluster(password=SECRET)
    wrong = "Wr0ng-pa55-xyz"
    dsns = [
        cluster.dsn(password=wrong),  # rejected login
        cluster.dsn(dbname="no_such_db"),  # the right password, a missing database
        f"postgresql://postgres:{SECRET}@127.0.0.1:{cluster.port}/postgres?no_such_option=1",  # unparsable
        f"host=127.0.0.1 password={SECRET} port",  # a malformed key=value DSN
    ]
    caplog.set_level(logging.DEBUG)
    results = [check(cluster, dsn=dsn)[0] for dsn in dsns]
    cluster.stop()
    results.append(check(cluster, dsn=dsns[1])[0])
    assert [r.error for r in results] == [
        "authentication rejected (pg_hba.conf / password)",
        "database does not exist",
        "DATABASE_URL is not a valid PostgreSQL connection string",
        "DATABASE_URL is not a valid PostgreSQL connection string",
        "connection refused",
    ]
    shown = "\n".join(repr(r) + json.dumps(r.as_dict()) for r in results)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for secret in (SECRET, wrong):
        assert secret not in shown and secret not in logged


def test_the_cli_shows_postgres_down_with_the_reason_and_never_the_password(pg_cluster, tmp_path):
    cluster = pg_cluster()
    services = [
        {"name": "db-good", "type": "postgres", "port": cluster.port, "dsn_env": "GOOD_DB_URL"},
        {"name": "db-bad", "type": "postgres", "port": cluster.port, "dsn_env": "BAD_DB_URL"},
    ]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"services": services}))
    env = {**os.environ, "GOOD_DB_URL": cluster.dsn(), "BAD_DB_URL": cluster.dsn(password=SECRET)}
    proc = subprocess.run(
        [sys.executable, "-m", "ops.bytebot_health", "--json", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    by_name = {s["service"]: s for s in json.loads(proc.stdout)["services"]}
    assert by_name["db-good"]["status"] == "up"
    assert by_name["db-bad"]["status"] == "down"
    assert by_name["db-bad"]["error"] == "authentication rejected (pg_hba.conf / password)"
    assert SECRET not in proc.stdout + proc.stderr and cluster.password not in proc.stdout + proc.stderr


def test_a_backend_frozen_mid_query_cannot_outlast_the_deadline(pg_cluster):
    cluster = pg_cluster()
    conn = psycopg.connect(cluster.dsn(), autocommit=True)
    backend = conn.info.backend_pid
    os.kill(backend, signal.SIGSTOP)  # logged in, then frozen: the server's statement_timeout cannot fire
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            select_one(conn.pgconn, started + 1.0)
        assert 1.0 <= time.monotonic() - started < 2.0
    finally:
        os.kill(backend, signal.SIGCONT)
        conn.close()
