"""Is "recovered" true? A real PostgreSQL is killed 5 times; the verified time is set against the first real query.

Run: .venv/bin/python bench/recovery_truth.py [--trials N]   (needs Debian's postgresql 15: make setup-test)

A throwaway cluster (tests/postgres_cluster.py) is watched by a Mission Control core with a postgres
check every 1 s (failure_threshold 2) and a command recovery that runs `pg_ctl start -W`, which
returns before the server accepts anything. Before each kill some rows are written, so the restart
has WAL to replay (a crash in use, not an idle one). Each trial SIGKILLs the postmaster and reports,
in seconds from the kill: detect (the monitor says down), action (pg_ctl returned), verified (the
engine's "recovered"), port open (a TCP connect first succeeds: what a TCP check would have
verified) and first query (a real SELECT 1 first succeeds, polled independently every ~5 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from common import env_summary, watch_incident

from config import settings_from_dict
from ops.core import Core
from tests.postgres_cluster import PostgresCluster

NAME = "postgres"
INTERVAL_S = 1.0
THRESHOLD = 2
TRIAL_DEADLINE_S = 60.0


class Truth:
    """Polls SELECT 1 and a TCP connect on a thread; the wall-clock times of their first successes."""

    def __init__(self, cluster: PostgresCluster) -> None:
        self.cluster = cluster
        self.first_query = self.port_open = self.last_failure = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and self.first_query is None:
            began = time.time()
            if self.port_open is None and self._tcp_open():
                self.port_open = time.time()
            if self.cluster.query_ok():
                self.first_query = time.time()
            else:
                self.last_failure = began
            self._stop.wait(0.005)

    def _tcp_open(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.cluster.port), timeout=1).close()
            return True
        except OSError:
            return False

    def wait(self, timeout: float) -> None:
        self._thread.join(timeout)
        self._stop.set()


def wall(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def wait_up(core: Core, deadline: float) -> None:
    while core.monitor.states[NAME].status not in ("up", "degraded"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{NAME} never came up")
        time.sleep(0.05)


def write_some(cluster: PostgresCluster) -> None:
    """WAL for the restart to replay."""
    with cluster.admin(autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS filler (g int, h text)")
        conn.execute("INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 200000) g")


def trial(core: Core, cluster: PostgresCluster, rng: random.Random) -> dict:
    """Kill the postmaster and follow the events until the recovery has finished."""
    wait_up(core, time.monotonic() + TRIAL_DEADLINE_S)
    core.recovery.reset(NAME)  # a fresh incident: no backoff or attempt cap left over
    write_some(cluster)
    time.sleep(rng.uniform(0, INTERVAL_S))  # land anywhere in the sweep cycle
    subscription = core.bus.subscribe()
    try:
        killed = time.time()
        cluster.kill()
        truth = Truth(cluster)
        detected, entry = watch_incident(subscription, NAME, TRIAL_DEADLINE_S)
        truth.wait(TRIAL_DEADLINE_S)
        return figures(entry, killed, detected, truth)
    finally:
        subscription.close()


def figures(entry: dict, killed: float, detected: float | None, truth: Truth) -> dict:
    started = wall(entry["time"])
    nan = float("nan")
    return {
        "outcome": entry["outcome"],
        "detect": detected - killed if detected else nan,
        "action": started + entry["action_s"] - killed,
        "verified": started + entry.get("time_to_healthy_s", nan) - killed,
        "port_open": truth.port_open - killed if truth.port_open else nan,
        "first_query": truth.first_query - killed if truth.first_query else nan,
        "last_failure": truth.last_failure - killed if truth.last_failure else nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cluster = PostgresCluster()
    try:
        cluster.start()
        os.environ["DATABASE_URL"] = cluster.dsn()
        recovery = {"action": "command", "command": cluster.start_command(wait=False), "timeout_s": 30}
        service = {"name": NAME, "type": "postgres", "port": cluster.port, "timeout_s": 2.0}
        service.update(failure_threshold=THRESHOLD, recovery={**recovery, "restart_failures": THRESHOLD})
        policy = {"cooldown_s": 0, "backoff_max_s": 0, "healthy_reset_s": 0, "verify_interval_s": 0.25}
        settings = settings_from_dict({"services": [service], "interval_s": INTERVAL_S, "recovery": policy}, "bench")
        with tempfile.TemporaryDirectory() as tmp:
            core = Core(settings, Path(tmp))
            core.start()
            try:
                rows = [trial(core, cluster, rng) for _ in range(args.trials)]
            finally:
                core.stop()
    finally:
        cluster.close()
    report(rows)


def report(rows: list[dict]) -> None:
    print(f"SIGKILLed postmaster, postgres check every {INTERVAL_S:g} s, failure_threshold {THRESHOLD},")
    print("recovery `pg_ctl start -W`, verify every 0.25 s (seconds from the kill)")
    columns = ("detect", "action", "port_open", "last_failure", "first_query", "verified")
    print(f"{'run':>3} {'outcome':<10} " + " ".join(f"{c:>12}" for c in columns))
    for i, r in enumerate(rows, 1):
        print(f"{i:>3} {r['outcome']:<10} " + " ".join(f"{r[c]:12.3f}" for c in columns))
    for key in ("detect", "verified", "first_query"):
        values = [r[key] for r in rows]
        print(f"{key:>11}: median {statistics.median(values):.2f} s, min {min(values):.2f} s, max {max(values):.2f} s")
    # The server first answered a query between the poller's last refused attempt (its start) and
    # its first success (its end); a verified time before that window is certainly too early.
    early = [i for i, r in enumerate(rows, 1) if not r["verified"] >= r["last_failure"]]
    margin = min(r["verified"] - r["last_failure"] for r in rows)
    spread = max(abs(r["verified"] - r["first_query"]) for r in rows)
    verdict = "never earlier than" if not early else f"EARLIER than (runs {early})"
    print(
        f"verified is {verdict} the first real query in {len(rows)} runs: always after the last refused"
        f" query began (min margin {margin * 1000:.0f} ms), within {spread * 1000:.0f} ms of the poller's first success"
    )
    gap = statistics.median(r["first_query"] - r["port_open"] for r in rows)
    print(f"a TCP check would have verified a median {gap:.2f} s before the first query worked")
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
