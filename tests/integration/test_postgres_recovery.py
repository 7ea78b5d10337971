"""A recovery that restarts a real PostgreSQL is verified only once real queries work (issue 8, item 3)."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import psycopg

from tests.integration.recovery_support import make_core, wait_finished


class QueryClock:
    """Polls a real SELECT 1 over TCP on a thread; keeps the wall-clock start and end of every attempt."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.attempts: list[tuple[float, float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.time()
            try:
                with psycopg.connect(self.dsn, connect_timeout=2, autocommit=True) as conn:
                    ok = conn.execute("SELECT 1").fetchone() == (1,)
            except psycopg.Error:
                ok = False
            self.attempts.append((began, time.time(), ok))
            self._stop.wait(0.005)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def first_success(self) -> tuple[float, float]:
        """(start of the last failed attempt before the first success, end of that success):
        the first moment the server answered a query lies between the two."""
        index = next(i for i, (_, _, ok) in enumerate(self.attempts) if ok)
        assert index > 0, "queries never failed: the test did not see the restart"
        return self.attempts[index - 1][0], self.attempts[index][1]


def wall(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def test_a_restart_that_returns_early_is_recovered_only_after_select_1_works(pg_cluster, tmp_path, monkeypatch):
    cluster = pg_cluster()
    with cluster.admin(autocommit=True) as conn:  # WAL to replay after the crash: a real start-up delay
        conn.execute("CREATE TABLE filler AS SELECT g, md5(g::text) FROM generate_series(1, 300000) g")
    cluster.stop("immediate")
    monkeypatch.setenv("DATABASE_URL", cluster.dsn())
    recovery = {"action": "command", "command": cluster.start_command(wait=False), "timeout_s": 30}
    service = {"name": "postgres", "type": "postgres", "port": cluster.port, "timeout_s": 2, "recovery": recovery}
    core = make_core(tmp_path, [service], recovery={"verify_timeout_s": 60, "verify_interval_s": 0.05})
    clock = QueryClock(cluster.dsn())
    try:
        core.recovery.request_manual("postgres")
        done = wait_finished(core, "postgres", timeout=90)
    finally:
        clock.stop()
        core.stop()
    assert done["outcome"] == "recovered", done
    last_failure, first_success = clock.first_success()
    started = wall(done["time"])
    action_returned = started + done["action_s"]
    verified = started + done["time_to_healthy_s"]
    # The premise: pg_ctl -W came back while the server still refused queries.
    assert action_returned < last_failure < first_success
    # The point: neither the verification nor the logged entry precedes the first working query.
    assert verified >= last_failure and wall(done["finished"]) >= last_failure
    assert verified - last_failure < 5  # and it did not take long to notice either
