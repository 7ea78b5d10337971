"""The PostgreSQL history store where the contract suite does not reach: migrations, a lost server,
the import command, retention, rollups beyond the raw retention, and the shared recovery log."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest

from ops.check_result import ProbeResult
from ops.figures import Figures
from ops.history import embedded_file as hf
from ops.history import postgres as pg
from ops.history import postgres_import, postgres_upkeep
from ops.history.buckets import bucket_index, bucket_value
from ops.history.postgres_recovery_log import PostgresRecoveryLog
from ops.history.postgres_schema import migrate, migrations
from tests.contract.pg_store_factory import fresh_database, make_store, running_cluster
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cluster():
    with running_cluster() as started:
        yield started


@pytest.fixture
def store(tmp_path, cluster):
    opened = make_store(tmp_path, cluster, raw_retention=timedelta(hours=2), retention=timedelta(days=30))
    yield opened
    opened.close()


def result(name: str, ts: datetime, ms: float | None = 10.0, error: str | None = None, status: str = "up"):
    return ProbeResult(name, error is None, ms, 200 if error is None else None, error, ts, status)


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def test_migrations_are_recorded_once_and_a_second_load_applies_none(store):
    with psycopg.connect(store.url) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [v for v, _, _ in migrations()]
        assert migrate(conn) == []
    again = pg.PostgresStore(store.url, timedelta(hours=2), timedelta(days=30))
    assert again.load() == 0
    again.close()


def test_dashboards_starting_at_once_migrate_an_empty_database_once(cluster):
    url = fresh_database(cluster)
    start = threading.Barrier(4)
    applied, errors = [], []

    def run():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                start.wait()
                applied.append(migrate(conn))
        except Exception as exc:  # noqa: BLE001 - collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(applied, key=len) == [[], [], [], [v for v, _, _ in migrations()]]
    assert count(url, "SELECT count(*) FROM schema_migrations") == len(migrations())


def test_a_stopped_server_holds_sweeps_and_a_restarted_one_gets_them(pg_cluster, tmp_path):
    cluster = pg_cluster()
    store = make_store(tmp_path, cluster)
    try:
        now = datetime.now(UTC)
        store.append(now - timedelta(seconds=3), [result("web", now - timedelta(seconds=3))])
        cluster.stop("fast")
        for i in (2, 1):
            started = time.monotonic()
            store.append(now - timedelta(seconds=i), [result("web", now - timedelta(seconds=i))])  # never raises
            assert time.monotonic() - started < pg.POOL_WAIT_S + 2
        status = store.storage_status()
        assert status["ok"] is False and status["error"] and status["since"] and status["unsaved_sweeps"] == 2
        assert store.recent_checks() == []  # reads answer empty at once while it is gone
        cluster.start()
        time.sleep(pg.READ_RETRY_S)  # reads stay in their back-off this long
        store.append(now, [result("web", now)])
        assert store.storage_status() == {"ok": True, "error": None, "since": None, "unsaved_sweeps": 0}
        assert [r.ts for r in store.recent_checks()] == [now - timedelta(seconds=s) for s in (3, 2, 1, 0)]
        assert store.uptime({"1h": timedelta(hours=1)}, now)["web"]["1h"] == 100.0
    finally:
        store.close()


def test_a_retried_batch_counts_each_check_once_in_the_rollups(store):
    rows = [result("web", NOW), result("db", NOW, error="refused", status="down")]
    store.append(NOW, rows)
    with psycopg.connect(store.url, autocommit=True) as conn, conn.transaction():
        from ops.history.postgres_write import fold_rows, write_rows
        from ops.history.rows import CheckRow

        assert write_rows(conn, [CheckRow.from_result(NOW, r) for r in rows], [0, 1]) == 0  # a lost COMMIT retried
        partly = [*rows, result("cache", NOW, 3.0)]  # a sweep some of whose rows are stored already
        assert write_rows(conn, [CheckRow.from_result(NOW, r) for r in partly], [0, 1, 2]) == 1
        assert fold_rows(conn, NOW + timedelta(minutes=1)) == (3, NOW + timedelta(minutes=1))
        again = [CheckRow.from_result(NOW, r) for r in partly]
        assert write_rows(conn, again, [0, 1, 2]) == 0  # retried after the fold
    assert count(store.url, "SELECT sum(checks) FROM checks_hour") == 3
    assert count(store.url, "SELECT sum(failures) FROM checks_minute") == 1
    assert count(store.url, "SELECT count(*) FROM checks") == 3


ROLLUP = (
    "SELECT service, bucket, checks, failures, counted, up, answered, round(latency_sum::numeric, 6), latency_min,"
    " latency_max, n_down, n_degraded, n_pending, n_maintenance, n_up, last_error, last_error_ts,"
    " latency_buckets::text FROM {} ORDER BY service, bucket"
)


def test_rollups_folded_from_live_sweeps_equal_those_the_general_statement_writes(store, cluster, monkeypatch):
    from ops.history import postgres_write
    from ops.history.postgres_write import WRITE_SQL, _columns
    from ops.history.rows import CheckRow

    monkeypatch.setattr(postgres_write, "WRITE_SQL", "SELECT 1 / 0")  # the store's sweeps are never late here

    general = fresh_database(cluster)
    migrated = pg.PostgresStore(general, timedelta(hours=2), timedelta(days=30))
    migrated.load()
    migrated.close()  # an unclosed pool warns when it is collected
    kinds = [  # (status, latency, error): answered, failed with and without a latency, maintenance, unknown
        ("up", 12.3, None), ("degraded", 900.0, None), ("down", 0.7, "refused"), ("down", None, "timed out"),
        ("maintenance", 5.0, None), ("paused", 8.0, None), ("up", None, None),
    ]  # fmt: skip
    with psycopg.connect(general, autocommit=True, options="-c TimeZone=UTC") as conn:
        for k in range(20):  # 10 s apart: six sweeps a minute, a new minute and a new hour on the way
            ts = NOW - timedelta(minutes=2) + timedelta(seconds=10 * k, microseconds=k)
            sweep = [
                result(f"s{i}", ts, ms, error, status) for i in range(9) for status, ms, error in [kinds[(i + k) % 7]]
            ]
            store.append(ts, sweep)
            with conn.transaction():
                conn.execute(WRITE_SQL, _columns([CheckRow.from_result(ts, r) for r in sweep], range(9)))
    store.upkeep.wait()
    assert count(store.url, "SELECT sum(checks) FROM checks_minute") == 9 * 18  # the last minute is still open
    assert store.upkeep.fold(NOW + timedelta(minutes=2)) == 9 * 2  # ... until it closes
    for table in ("checks", "checks_minute", "checks_hour"):
        raw = "SELECT ts, service, idx, status, latency_ms, http_status, error, lb FROM checks ORDER BY service, ts"
        sql = ROLLUP.format(table) if table != "checks" else raw
        with psycopg.connect(store.url) as fast, psycopg.connect(general) as slow:
            assert fast.execute(sql).fetchall() == slow.execute(sql).fetchall()
    assert count(store.url, "SELECT count(*) FROM checks_hour") == 18  # NOW - 2 min to NOW + 1 min: two hours


def write_history(path: Path, sweeps: int, names=("web", "db")) -> None:
    with open(path, "wb") as out:
        for i in range(sweeps):
            ts = NOW - timedelta(minutes=sweeps - i)
            rows = [(n, "up" if i % 5 else "down", 5.0 + i % 7, 200, None if i % 5 else "HTTP 500") for n in names]
            out.write(hf.encode_sweep(ts, rows))
        out.write(b'{"ts": "2026-11-26T1')  # a torn last line: skipped and counted


def run_import(source: Path, url: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "ops.history", "import", "--from", str(source), "--to", url]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_loads_a_history_file_and_a_rerun_adds_nothing(cluster, tmp_path):
    source, url = tmp_path / "history.jsonl", fresh_database(cluster)
    write_history(source, 300)
    first = run_import(source, url)
    assert first.returncode == 0, first.stderr
    assert "600 rows read, 600 added, 0 already there, 1 unreadable line(s) skipped" in first.stdout
    rollups = count(url, "SELECT sum(checks) FROM checks_hour"), count(url, "SELECT sum(up) FROM checks_minute")
    second = run_import(source, url)
    assert second.returncode == 0 and "600 rows read, 0 added, 600 already there" in second.stdout
    assert count(url, "SELECT count(*) FROM checks") == 600
    assert (
        count(url, "SELECT sum(checks) FROM checks_hour"),
        count(url, "SELECT sum(up) FROM checks_minute"),
    ) == rollups
    assert rollups == (600, 480)


def test_import_names_the_file_or_the_database_on_bad_input(cluster, tmp_path):
    url = fresh_database(cluster)
    missing = run_import(tmp_path / "nope.jsonl", url)
    assert missing.returncode == 2 and "nope.jsonl: no such file" in missing.stderr
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello\nworld\n")
    bad = run_import(garbage, url)
    assert bad.returncode == 1 and "notes.txt: not a history file" in bad.stderr
    source = tmp_path / "history.jsonl"
    write_history(source, 3)
    wrong = run_import(source, cluster.dsn(password="Wr0ng-pa55"))
    assert wrong.returncode == 1 and "the database given by --to" in wrong.stderr
    assert "Wr0ng-pa55" not in wrong.stderr + wrong.stdout
    scheme = run_import(source, "mysql://x")
    assert scheme.returncode == 2 and "--to must be a postgresql:// URL" in scheme.stderr


def test_drop_expired_deletes_in_batches_by_age(store, monkeypatch):
    monkeypatch.setattr(postgres_upkeep, "DELETE_BATCH", 7)
    for age in (timedelta(days=40), timedelta(days=2), timedelta(hours=3), timedelta(minutes=1)):
        ts = NOW - age
        store.append(ts, [result(f"s{i}", ts) for i in range(10)])
    generation = store.generation
    dropped = store.drop_expired(NOW)
    # raw: 2 h; minutes: 2 h + 1 day; hours: 30 days.
    assert dropped == {"raw": 30, "minute": 20, "hour": 10}
    assert store.generation == generation + 1
    assert count(store.url, "SELECT count(*) FROM checks") == 10
    assert count(store.url, "SELECT count(*) FROM checks_hour") == 30
    assert store.drop_expired(NOW) == {"raw": 0, "minute": 0, "hour": 0}


def test_windows_beyond_the_raw_retention_read_the_rollups(store):
    rng = random.Random(7)
    latencies = []
    for minute in range(0, 3 * 24 * 60, 10):  # three days, a check every 10 minutes
        ts = NOW - timedelta(minutes=minute)
        ms = round(rng.uniform(1, 400), 1)
        failed = minute % 70 == 0
        latencies += [] if failed else [ms]
        store.append(ts, [result("web", ts, ms, "timeout" if failed else None, "down" if failed else "up")])
    week = {"7d": timedelta(days=7)}
    up = store.uptime(week, NOW)["web"]["7d"]
    assert up == round(100.0 * len(latencies) / (3 * 24 * 6), 3)
    p95 = store.percentiles(week, NOW, qs=(95,))["web"]["p95_7d"]
    exact = float(np.percentile(latencies, 95))
    assert abs(bucket_index(p95) - bucket_index(exact)) <= 1 and p95 == round(bucket_value(bucket_index(p95)), 1)
    points = store.chart_points("web", timedelta(days=7), 100, NOW)
    assert 1 < len(points) <= 100 and sum(p.checks for p in points) == 3 * 24 * 6
    assert sum(p.failed for p in points) == 3 * 24 * 6 - len(latencies)
    assert {p.status for p in points} <= {"up", "down"} and any(p.error == "timeout" for p in points)


def test_percentiles_on_raw_windows_are_numpys_linear_ones(store):
    rng = random.Random(3)
    values = {"a": [], "b": []}
    for i in range(170):  # all within the hour
        ts = NOW - timedelta(seconds=20 * i)
        sweep = []
        for name in values:
            ms = round(rng.lognormvariate(3, 1), 1)
            values[name].append(ms)
            sweep.append(result(name, ts, ms))
        store.append(ts, sweep)
    got = store.percentiles({"1h": timedelta(hours=1)}, NOW, qs=(50, 95, 99))
    pooled = values["a"] + values["b"]
    for name, sample in [*values.items(), ("*", pooled)]:
        for q in (50, 95, 99):
            assert got[name][f"p{q}_1h"] == round(float(np.percentile(sample, q)), 1)


def test_the_recovery_log_is_shared_by_two_dashboards(cluster):
    url = fresh_database(cluster)
    leader, follower = PostgresRecoveryLog(url), PostgresRecoveryLog(url)
    try:
        assert leader.load() == 0 and follower.load() == 0
        leader.append({"id": "r1", "service": "web", "outcome": "running", "attempt": 1, "output_tail": "a\x00b"})
        leader.append({"id": "r2", "service": "db", "outcome": "ok", "duration_s": 1.5})
        leader.append({"service": "web", "outcome": "skipped"})  # no id: its own row
        running = [e for e in follower.recent() if e.get("outcome") == "running"]
        assert running == [{"id": "r1", "service": "web", "outcome": "running", "attempt": 1, "output_tail": "ab"}]
        follower.update({**running[0], "outcome": "interrupted"})  # the dead leader's attempt
        assert [e.get("id") for e in leader.recent()] == ["r1", None, "r2"]
        assert leader.recent(service="web")[0]["outcome"] == "interrupted"
        assert leader.recent(limit=1, service="db") == [
            {"id": "r2", "service": "db", "outcome": "ok", "duration_s": 1.5}
        ]
        assert leader.storage_status() == {"ok": True, "error": None, "since": None}
        assert follower.clear() == 3 and leader.recent() == []
    finally:
        leader.close()
        follower.close()


def test_the_recovery_log_holds_entries_while_the_server_is_gone(pg_cluster):
    cluster = pg_cluster()
    log = PostgresRecoveryLog(fresh_database(cluster))
    try:
        log.load()
        cluster.stop("fast")
        log.append({"id": 7, "service": "web", "outcome": "running"})  # never raises
        assert log.storage_status()["ok"] is False
        assert log.recent() == [{"id": 7, "service": "web", "outcome": "running"}]  # held, still shown
        cluster.start()
        time.sleep(5.1)  # past the retry back-off
        log.update({"id": 7, "service": "web", "outcome": "ok"})
        assert log.storage_status()["ok"] is True
        assert log.recent() == [{"id": 7, "service": "web", "outcome": "ok"}]
    finally:
        log.close()


def test_figures_start_over_after_a_read_the_outage_answered_empty(store):
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(minutes=70)
    for i in range(60):  # ten failures 70-61 minutes ago, then passes
        ts = start + timedelta(minutes=i)
        store.append(ts, [result("a", ts, error="boom" if i < 10 else None, status="down" if i < 10 else "up")])
    figures = Figures(store)
    figures.rebuild(now - timedelta(minutes=15))  # the 1 h window still holds the failures
    assert figures.of("a")["uptime"]["1h"] < 100
    generation = store.generation
    store._failed(psycopg.OperationalError("server gone"))  # a sweep write failed: reads answer empty a while
    figures.advance(now)  # the failures leaving the window are not read back ...
    assert store.generation > generation  # ... and the store says its answer was no answer
    store._failed_at -= pg.READ_RETRY_S  # the back-off is over and the server answers again
    figures.advance(now + timedelta(seconds=30))
    assert figures.of("a")["uptime"]["1h"] == 100.0
    assert store.uptime({"1h": timedelta(hours=1)}, now + timedelta(seconds=30))["a"]["1h"] == 100.0


def test_retention_runs_by_itself_from_append_about_hourly(store):
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    store.append(old, [result("web", old)])
    store.append(now, [result("web", now)])
    upkeep = store.upkeep
    assert upkeep._retention is None  # not in the first minutes after start
    upkeep._next_retention = 0.0  # an hour has passed
    store.append(now + timedelta(seconds=1), [result("web", now + timedelta(seconds=1))])
    upkeep._retention.join(timeout=30)
    assert count(store.url, "SELECT count(*) FROM checks") == 2
    assert count(store.url, "SELECT count(*) FROM checks_hour WHERE bucket < now() - interval '30 days'") == 0
    thread = upkeep._retention
    store.append(now + timedelta(seconds=2), [result("web", now + timedelta(seconds=2))])
    assert upkeep._retention is thread  # the next run is an hour away
    assert upkeep._next_retention > time.monotonic() + postgres_upkeep.RETENTION_EVERY_S - 60


def test_an_import_rerun_after_retention_counts_nothing_twice(cluster, tmp_path, monkeypatch):
    source, url = tmp_path / "history.jsonl", fresh_database(cluster)
    write_history(source, 300)  # days before today: all past the 48 h raw retention
    monkeypatch.setattr(postgres_import, "BATCH_ROWS", 7)  # an hour split across batches is still all added
    assert postgres_import.import_file(source, url).added == 600

    def hours() -> tuple[int, int]:
        return count(url, "SELECT sum(checks) FROM checks_hour"), count(url, "SELECT sum(failures) FROM checks_hour")

    assert hours() == (600, 120)
    db = pg.PostgresStore(url, timedelta(hours=48), timedelta(days=90))
    db.load()
    try:
        assert db.drop_expired(datetime.now(UTC))["raw"] == 600
    finally:
        db.close()
    again = run_import(source, url)
    assert again.returncode == 0 and "600 rows read, 0 added, 600 already there" in again.stdout
    assert hours() == (600, 120)  # not folded in again


def test_a_follower_whose_server_went_away_answers_at_once_and_recovers(pg_cluster, monkeypatch):
    monkeypatch.setattr(pg, "READ_RETRY_S", 0.5)
    cluster = pg_cluster()
    url = fresh_database(cluster)
    leader = pg.PostgresStore(url, timedelta(hours=48), timedelta(days=7))
    leader.load()
    leader.close()
    cluster.stop("fast")
    follower = pg.PostgresStore(url, timedelta(hours=48), timedelta(days=7))
    try:
        follower.load()  # fails: reported, never raised
        assert follower.storage_status()["ok"] is False
        time.sleep(0.6)
        generation = follower.generation
        assert follower.recent_checks() == []  # tried, failed (a short wait: the server is known gone)
        assert follower.generation > generation
        started = time.monotonic()
        for _ in range(3):
            assert follower.recent_checks() == []
        assert time.monotonic() - started < 0.5  # within the back-off: no wait for the pool at all
        assert follower.storage_status()["ok"] is False
        cluster.start()
        wait_for(lambda: follower.recent_checks() == [] and follower.storage_status()["ok"], timeout=20)
        assert follower.storage_status() == {"ok": True, "error": None, "since": None, "unsaved_sweeps": 0}
    finally:
        follower.close()


def test_the_recovery_log_says_when_it_could_not_be_read(cluster):
    url = fresh_database(cluster)
    unreachable = url.replace(f":{cluster.port}/", ":1/")  # nothing listens there
    assert unreachable != url
    log = PostgresRecoveryLog(unreachable)
    try:
        log.load()
        log.append({"id": 1, "service": "web", "outcome": "recovered"})
        assert log.read_recent() is None  # a counter must not take the held entry for the whole log
        assert log.recent() == [{"id": 1, "service": "web", "outcome": "recovered"}]  # the page still shows it
    finally:
        log.close()


def test_a_day_beyond_memory_reads_minutes_at_its_edge_and_hours_inside_exactly(tmp_path, cluster):
    """A large fleet's store (memory 2 h) reads a 24 h window from the minute rollups up to its first
    whole hour and the hour ones inside: the same uptime as the raw rows, before and after a fold."""
    short = make_store(tmp_path, cluster, memory=timedelta(hours=2))
    exact = pg.PostgresStore(short.url, short.raw_retention, short.retention)  # memory: all raw rows
    exact.load()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    agos, values = range(86_280, 300, -420), []  # every 7 min from 23 h 58 min ago (the minute edge)
    for k, ago in enumerate(agos):
        ts, ok = now - timedelta(seconds=ago), k % 5 != 0
        values += [10.0 + 3.7 * k] if ok else []
        short.append(ts, [result("a", ts, 10.0 + 3.7 * k) if ok else result("a", ts, None, "refused", "down")])
    day = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}
    try:
        expected = exact.uptime(day, now)
        assert expected["a"]["24h"] == round(100.0 * len(values) / len(agos), 3)
        assert short.uptime(day, now) == expected  # from the raw rows not folded yet (the tail)
        assert short.upkeep.fold(now.replace(second=0)) > 0
        assert short.uptime(day, now) == expected  # folded into the rollups
        p = short.percentiles(day, now, (50, 95))["a"]
        for q in (50, 95):
            assert p[f"p{q}_24h"] == pytest.approx(np.percentile(values, q), rel=0.1)
    finally:
        exact.close()
        short.close()
