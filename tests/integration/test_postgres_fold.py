"""PostgreSQL rollups folded once a minute: a sweep is one INSERT, and no figure waits for the fold.

The fold mark (`rollup_state.folded_until`) splits raw rows into folded and not yet folded; readers
add the unfolded ones, late rows are folded at once, retention keeps unfolded rows, and a database
from before the mark starts folding after its newest row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ops.check_result import ProbeResult
from ops.history import postgres as pg
from ops.history.buckets import bucket_index, bucket_value
from ops.history.postgres_schema import migrate, migrations
from ops.history.postgres_upkeep import Upkeep, minute_of
from ops.history.protocol import StoreUnusable
from tests.contract.pg_store_factory import fresh_database, make_store, running_cluster

NOW = datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
WEEK = {"7d": timedelta(days=7)}


@pytest.fixture(scope="module")
def cluster():
    with running_cluster() as started:
        yield started


@pytest.fixture
def store(tmp_path, cluster):
    # Raw rows for one hour only, so a 7-day window reads the hour rollups (plus the unfolded rows).
    opened = make_store(tmp_path, cluster, raw_retention=timedelta(hours=1), retention=timedelta(days=30))
    yield opened
    opened.close()


def result(name: str, ts: datetime, ms: float = 10.0, error: str | None = None) -> ProbeResult:
    ok = error is None
    return ProbeResult(name, ok, ms, 200 if ok else None, error, ts, "up" if ok else "down")


def one(url: str, sql: str, *args):
    with psycopg.connect(url, options="-c TimeZone=UTC") as conn:
        return conn.execute(sql, args).fetchone()[0]


def write_as_an_older_version(conn, ts: datetime) -> None:
    """One good check of web as a version before migration 0004 stored it: the raw row without
    folded_at_write, and its hour rollup updated at once."""
    conn.execute("INSERT INTO checks (ts, service, status, latency_ms) VALUES (%s, 'web', 'up', 5)", (ts,))
    conn.execute(
        "INSERT INTO checks_hour (service, bucket, checks, failures, counted, up, answered, latency_sum,"
        " n_down, n_degraded, n_pending, n_maintenance, n_up, latency_buckets)"
        " VALUES ('web', %s, 1, 0, 1, 1, 1, 5, 0, 0, 0, 0, 1, '{}')",
        (ts.replace(minute=0, second=0, microsecond=0),),
    )


def figures(store, now: datetime) -> tuple:
    """What a page shows over seven days: uptime, p50, and the chart's checks and failures."""
    points = store.chart_points("web", timedelta(days=7), 50, now)
    return (
        store.uptime(WEEK, now)["web"]["7d"],
        store.percentiles(WEEK, now, qs=(50,))["web"]["p50_7d"],
        sum(p.checks for p in points),
        sum(p.failed for p in points),
    )


def test_a_sweep_is_raw_only_until_its_minute_is_folded_and_the_figures_never_change(store):
    old = NOW - timedelta(days=3)
    store.append(old, [result("web", old, 40.0)])
    store.upkeep.wait()
    store.upkeep.fold(NOW - timedelta(minutes=5))  # the old sweep is in the rollups
    assert one(store.url, "SELECT sum(checks) FROM checks_hour") == 1
    for k in range(3):  # three sweeps in the current minute: newer than the mark
        ts = NOW + timedelta(seconds=5 * k)
        store.append(ts, [result("web", ts, 20.0, "HTTP 503" if k == 1 else None)])
    store.upkeep.wait()
    assert one(store.url, "SELECT sum(checks) FROM checks_hour") == 1  # not folded: the minute is open
    assert one(store.url, "SELECT count(*) FROM checks WHERE ts >= (SELECT folded_until FROM rollup_state)") == 3
    before = figures(store, NOW + timedelta(seconds=20))
    assert before == (75.0, round(bucket_value(bucket_index(20.0)), 1), 4, 1)  # p50 of 40, 20, 20 from its bucket
    assert store.upkeep.fold(minute_of(NOW) + timedelta(minutes=1)) == 3
    assert one(store.url, "SELECT sum(checks) FROM checks_hour") == 4
    assert figures(store, NOW + timedelta(seconds=20)) == before


def test_a_sweep_older_than_the_mark_is_folded_at_once_and_counted_once(store):
    store.append(NOW, [result("web", NOW)])
    store.upkeep.wait()
    store.upkeep.fold(NOW + timedelta(minutes=2))
    late = NOW - timedelta(seconds=10)  # a held sweep written back after the fold passed its minute
    store.append(late, [result("web", late, error="timed out")])
    store.append(late, [result("web", late, error="timed out")])  # ... and retried
    assert one(store.url, "SELECT sum(checks) FROM checks_minute") == 2
    assert one(store.url, "SELECT sum(failures) FROM checks_hour") == 1
    assert store.uptime(WEEK, NOW + timedelta(minutes=1))["web"]["7d"] == 50.0


def test_the_writer_folds_closed_minutes_by_itself(store):
    for k in range(8):  # 10 s apart from NOW (12:00:30): the first minute closes at 12:01
        ts = NOW + timedelta(seconds=10 * k)
        store.append(ts, [result("web", ts)])
    store.upkeep.wait()
    assert one(store.url, "SELECT folded_until FROM rollup_state") == minute_of(NOW) + timedelta(minutes=1)
    assert one(store.url, "SELECT sum(checks) FROM checks_minute") == 3  # 12:00:30, :40, :50
    assert store.upkeep.last_fold_ms is not None


def test_retention_keeps_raw_rows_the_rollups_do_not_hold_yet(store):
    old = NOW - timedelta(days=2)
    store.append(old, [result("web", old)])
    store.upkeep.wait()
    upkeep = Upkeep(store._pool, pg._describe)
    plan = {"raw": ("checks", "ts", NOW)}
    assert upkeep.delete_before(plan) == {"raw": 0}  # the mark is before the row: not folded, kept
    assert store.drop_expired(NOW)["raw"] == 1  # drop_expired folds first, then deletes
    assert store.uptime(WEEK, NOW)["web"]["7d"] == 100.0


def test_a_database_from_before_the_mark_folds_only_rows_written_after_it(cluster):
    url = fresh_database(cluster)
    before_mark = [m for m in migrations() if m[0] < 4]
    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL)")
        for version, name, sql in before_mark:  # the schema of the version that folded at every sweep
            conn.execute(sql.encode())
            conn.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (version, name))
        write_as_an_older_version(conn, NOW)
        assert migrate(conn) == [v for v, _, _ in migrations() if v >= 4]
    assert one(url, "SELECT folded_until FROM rollup_state") == NOW + timedelta(microseconds=1)
    store = pg.PostgresStore(url, timedelta(hours=1), timedelta(days=30))
    store.load()
    try:
        later = NOW + timedelta(seconds=10)
        store.append(later, [result("web", later)])
        store.upkeep.wait()
        store.upkeep.fold(NOW + timedelta(minutes=5))
        assert one(url, "SELECT sum(checks) FROM checks_hour") == 2  # the old row was not folded twice
    finally:
        store.close()


def test_a_database_migrated_by_a_newer_version_is_refused(cluster):
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')")
        with pytest.raises(StoreUnusable, match="schema version 9999, newer than this Mission Control"):
            migrate(conn)


def test_rows_an_older_dashboard_writes_during_an_upgrade_are_counted_once(store):
    # An older version names no folded_at_write column and updates the rollups itself at each sweep.
    ts = NOW + timedelta(seconds=5)
    with psycopg.connect(store.url, autocommit=True, options="-c TimeZone=UTC") as conn:
        write_as_an_older_version(conn, ts)
    late = NOW + timedelta(seconds=10)
    store.append(late, [result("web", late, error="refused")])  # this version's row beside it
    assert store.uptime(WEEK, NOW + timedelta(minutes=1))["web"]["7d"] == 50.0
    store.upkeep.wait()
    assert store.upkeep.fold(NOW + timedelta(minutes=2)) == 1  # only this version's row
    assert store.uptime(WEEK, NOW + timedelta(minutes=3))["web"]["7d"] == 50.0
    assert one(store.url, "SELECT sum(checks) FROM checks_hour") == 2


def test_a_backlog_is_folded_in_bounded_steps(store, monkeypatch):
    from ops.history import postgres_write

    monkeypatch.setattr(postgres_write, "FOLD_STEP_ROWS", 3)  # a step of at most about 3 rows
    marks = []
    fold_rows = postgres_write.fold_rows

    def counted(conn, until):
        folded, mark = fold_rows(conn, until)
        marks.append(mark)
        return folded, mark

    monkeypatch.setattr("ops.history.postgres_upkeep.fold_rows", counted)
    monkeypatch.setattr(store.upkeep, "after_write", lambda *_: None)  # no fold while they are written
    for k in range(10):  # held sweeps written back after an outage: ten minutes of two services
        ts = NOW - timedelta(minutes=20 - k)
        store.append(ts, [result("web", ts), result("db", ts, error="refused")])
    before = store.uptime(WEEK, NOW)
    assert store.upkeep.fold(NOW) == 20
    assert len(marks) == 10 and marks == sorted(marks)  # at most 3 rows a step: one sweep (2) each, never split
    assert one(store.url, "SELECT sum(checks) FROM checks_hour") == 20
    assert store.uptime(WEEK, NOW) == before == {"web": {"7d": 100.0}, "db": {"7d": 0.0}}


def test_a_failed_fold_is_tried_again_at_the_next_sweep(store, monkeypatch):
    from ops.history import postgres_upkeep

    real = postgres_upkeep.fold_rows
    calls = []

    def read_only_once(conn, until):
        calls.append(until)
        if len(calls) == 1:
            raise psycopg.errors.ReadOnlySqlTransaction("cannot execute UPDATE in a read-only transaction")
        return real(conn, until)

    monkeypatch.setattr(postgres_upkeep, "fold_rows", read_only_once)
    for k in range(3):  # one sweep a minute: each asks for a fold
        ts = NOW + timedelta(minutes=k)
        store.append(ts, [result("web", ts)])
        store.upkeep.wait()
    assert len(calls) >= 2  # the failure did not stop folding
    assert one(store.url, "SELECT folded_until FROM rollup_state") == minute_of(NOW + timedelta(minutes=2))


def test_a_newer_schema_found_after_start_stops_writing_and_says_so(store):
    store._migrated = False  # as if the server had been out of reach at start
    with psycopg.connect(store.url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')")
    store.append(NOW, [result("web", NOW)])  # never raises
    status = store.storage_status()
    assert status["ok"] is False and "schema version 9999" in status["error"] and status["unsaved_sweeps"] == 1
    assert one(store.url, "SELECT count(*) FROM checks") == 0
    again = pg.PostgresStore(store.url, timedelta(hours=1), timedelta(days=30))
    with pytest.raises(StoreUnusable, match="9999"):  # at start: the dashboard exits with the message
        again.load()
    again.close()
